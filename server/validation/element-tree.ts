import type { ElementDefinition, StructureDefinition } from '@medplum/fhirtypes';

/** A snapshot element with its children and slices, as the validator walks it. */
export interface ElementNode {
  ed: ElementDefinition;
  /** The last segment of the path: `identifier`, `value[x]`. */
  name: string;
  children: ElementNode[];
  slices: ElementNode[];
  /** Fixed or pattern value, with which of the two it is. */
  expected?: { kind: 'fixed' | 'pattern'; value: unknown };
}

const trees = new WeakMap<StructureDefinition, ElementNode>();

/** The tree of a StructureDefinition's snapshot (built once per definition). */
export function elementTree(sd: StructureDefinition): ElementNode {
  let root = trees.get(sd);
  if (root) return root;
  const byId = new Map<string, ElementNode>();
  for (const ed of sd.snapshot?.element ?? []) {
    const id = ed.id ?? ed.path ?? '';
    const node: ElementNode = { ed, name: lastSegment(ed.path ?? ''), children: [], slices: [], expected: expectedValue(ed) };
    byId.set(id, node);
    if (!root) {
      root = node;
      continue;
    }
    const dot = id.lastIndexOf('.');
    const last = id.slice(dot + 1);
    const colon = last.indexOf(':');
    if (colon >= 0) {
      const slice = last.slice(colon + 1);
      const resliced = slice.lastIndexOf('/');
      const sliced = id.slice(0, dot + 1) + (resliced > 0 ? `${last.slice(0, colon)}:${slice.slice(0, resliced)}` : last.slice(0, colon));
      byId.get(sliced)?.slices.push(node);
    } else {
      byId.get(id.slice(0, dot))?.children.push(node);
    }
  }
  if (!root) throw new Error(`${sd.url} has no snapshot`);
  trees.set(sd, root);
  return root;
}

function lastSegment(path: string): string {
  return path.slice(path.lastIndexOf('.') + 1);
}

function expectedValue(ed: ElementDefinition): ElementNode['expected'] {
  for (const [key, value] of Object.entries(ed)) {
    if (/^fixed[A-Z]/.test(key)) return { kind: 'fixed', value };
    if (/^pattern[A-Z]/.test(key)) return { kind: 'pattern', value };
  }
  return undefined;
}

/** The child node of an element by JSON property name (`valueQuantity` is `value[x]`), with the type it names. */
export function childFor(node: ElementNode, key: string): { child: ElementNode; type?: string } | undefined {
  for (const child of node.children) {
    if (child.name === key) return { child };
    if (child.name.endsWith('[x]')) {
      const stem = child.name.slice(0, -3);
      if (key.startsWith(stem) && /^[A-Z]/.test(key.slice(stem.length))) {
        const suffix = key.slice(stem.length);
        const type = child.ed.type?.find((t) => capitalise(t.code as string) === suffix)?.code ?? uncapitalise(suffix);
        return { child, type };
      }
    }
  }
  return undefined;
}

export const capitalise = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);
const PRIMITIVES = new Set([
  'boolean',
  'integer',
  'string',
  'decimal',
  'uri',
  'url',
  'canonical',
  'base64Binary',
  'instant',
  'date',
  'dateTime',
  'time',
  'code',
  'oid',
  'id',
  'markdown',
  'unsignedInt',
  'positiveInt',
  'uuid',
]);
function uncapitalise(suffix: string): string {
  const lower = suffix.charAt(0).toLowerCase() + suffix.slice(1);
  return PRIMITIVES.has(lower) ? lower : suffix;
}

/** Whether an instance value contains a pattern (profiling.html#pattern): arrays match item by item. */
export function matchesPattern(value: unknown, pattern: unknown): boolean {
  if (Array.isArray(pattern)) {
    const items = Array.isArray(value) ? value : [value];
    return pattern.every((p) => items.some((v) => matchesPattern(v, p)));
  }
  if (pattern !== null && typeof pattern === 'object') {
    if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
    return Object.entries(pattern).every(([k, p]) => matchesPattern((value as Record<string, unknown>)[k], p));
  }
  return value === pattern || sameCanonical(value, pattern);
}

/** A canonical matches a versioned one: the IG Publisher pins `url|version` where instances say `url`. */
function sameCanonical(value: unknown, expected: unknown): boolean {
  if (typeof value !== 'string' || typeof expected !== 'string' || !/^(https?|urn):/.test(expected)) return false;
  const [a, av] = value.split('|');
  const [b, bv] = expected.split('|');
  return a === b && (!av || !bv);
}

export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b || sameCanonical(a, b)) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  return ka.length === kb.length && ka.every((k) => deepEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}
