import { fail } from './outcome.js';
import { mayHoldExact, parseExact } from './exact-json.js';

/** MAX_JSON_DEPTH's default: the R4 examples nest at most 22 deep, a Questionnaire's items 2 more a level. */
export const DEFAULT_MAX_JSON_DEPTH = 100;

/** Keys that name an object's prototype machinery: never data, refused wherever they appear. */
const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

/**
 * Parses untrusted JSON, bounded: at most `maxDepth` nested arrays and objects (V8 parses any
 * depth, but every recursive walk after it - validation, JSON.stringify - would overflow the call
 * stack), and no `__proto__`, `constructor` or `prototype` key, which JSON.parse keeps as own
 * properties for a later assignment or merge to turn into a prototype change. Throws a 400
 * whose diagnostics start with `what`.
 */
export function parseJson(text: string, maxDepth = DEFAULT_MAX_JSON_DEPTH, what = 'The body'): unknown {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw fail(400, 'structure', `${what} is not valid JSON: ${(err as Error).message}`);
  }
  checkBounds(value, maxDepth, what);
  // Parsed again, keeping exact decimals, only when the text may hold one (the bounds were checked on the first).
  return mayHoldExact(text) ? parseExact(text) : value;
}

/** A node waiting to be visited, with its parent: the path of a fault is only spelled out when there is one. */
interface Pending {
  value: object;
  depth: number;
  parent?: Pending;
  key?: string | number;
}

/** Walks the parsed value with a stack of its own (no recursion: the value may be deeper than the call stack). */
function checkBounds(root: unknown, maxDepth: number, what: string): void {
  if (root === null || typeof root !== 'object') return;
  const stack: Pending[] = [{ value: root, depth: 1 }];
  while (stack.length) {
    const node = stack.pop() as Pending;
    if (node.depth > maxDepth) {
      throw fail(400, 'structure', `${what} nests arrays and objects more than ${maxDepth} deep (MAX_JSON_DEPTH)`, [pathOf(node)]);
    }
    if (Array.isArray(node.value)) {
      node.value.forEach((item, key) => {
        if (item !== null && typeof item === 'object') stack.push({ value: item as object, depth: node.depth + 1, parent: node, key });
      });
      continue;
    }
    for (const key of Object.keys(node.value)) {
      if (FORBIDDEN_KEYS.has(key))
        throw fail(400, 'structure', `${what} has a property named ${key}, which no FHIR element is`, [
          pathOf({ value: {}, depth: node.depth + 1, parent: node, key }),
        ]);
      const item = (node.value as Record<string, unknown>)[key];
      if (item !== null && typeof item === 'object') stack.push({ value: item, depth: node.depth + 1, parent: node, key });
    }
  }
}

/** Where a node sits, as FHIRPath from the resource type when the root is a resource (`Patient.name[0].given`). */
function pathOf(node: Pending): string {
  const steps: (string | number)[] = [];
  let root: Pending = node;
  for (let at: Pending | undefined = node; at?.parent; at = at.parent) {
    steps.unshift(at.key as string | number);
    root = at.parent;
  }
  const resourceType = (root.value as { resourceType?: unknown }).resourceType;
  let path = typeof resourceType === 'string' && /^[A-Z][A-Za-z]*$/.test(resourceType) ? resourceType : '$this';
  for (const step of steps) path += typeof step === 'number' ? `[${step}]` : `.${fhirPathName(step)}`;
  return path;
}

/** A property name as a FHIRPath identifier: delimited with backticks unless it is a plain one. */
export function fhirPathName(key: string): string {
  return /^[A-Za-z_][A-Za-z0-9_]*$/.test(key) ? key : `\`${key.replace(/[`\\]/g, (c) => `\\${c}`)}\``;
}
