import type { ElementDefinitionSlicingDiscriminator, Resource } from '@medplum/fhirtypes';
import type { Registry } from './canonicals.js';
import { valueSetCodes } from './codes.js';
import { deepEqual, matchesPattern, type ElementNode } from './element-tree.js';

/** Whether a value conforms to the profile `canonical`: the profile walk's answer, handed in (it walks slices itself). */
export type Conforms = (canonical: string, value: unknown) => boolean;

/**
 * The first slice of a sliced element that a value belongs to (profiling.html#discriminator):
 * every discriminator of the slicing must hold. Discriminator paths are the restricted FHIRPath
 * the specification allows: names, `$this`, `extension('url')`, `resolve()` (not followed: the
 * target is not at hand) and `ofType(T)`. `conforms` judges the `profile` discriminators.
 */
export function matchingSlice(registry: Registry, sliced: ElementNode, value: unknown, type: string | undefined, conforms: Conforms): ElementNode | undefined {
  const discriminators = sliced.ed.slicing?.discriminator ?? [];
  if (!discriminators.length) return undefined;
  return sliced.slices.find((slice) => discriminators.every((d) => holds(registry, d, slice, value, type, conforms, discriminators.length)));
}

function holds(
  registry: Registry,
  d: ElementDefinitionSlicingDiscriminator,
  slice: ElementNode,
  value: unknown,
  type: string | undefined,
  conforms: Conforms,
  discriminators: number,
): boolean {
  const steps = parsePath(d.path as string);
  if (!steps) return false;
  const values = navigate([value], steps);
  switch (d.type) {
    case 'value':
    case 'pattern': {
      const expected = expectedAt(slice, steps);
      if (expected.length)
        return values.some((v) => expected.some((e) => (e.kind === 'fixed' && d.type === 'value' ? deepEqual(v, e.value) : matchesPattern(v, e.value))));
      const target = nodeAt(slice, steps);
      const bound = target?.ed.binding;
      if (bound?.strength === 'required' && bound.valueSet) {
        const codes = valueSetCodes(registry, bound.valueSet);
        if (!codes) return false;
        return values.some((v) => (typeof v === 'string' ? codes.codes.has(v) : hasCoding(v, codes.codings)));
      }
      // A slice that leaves the element of one of several discriminators free is not told apart
      // by it (HL7's validator: a subtype not required of every slice).
      return !!target && discriminators > 1;
    }
    case 'type': {
      const target = nodeAt(slice, steps) ?? slice;
      const types = (target.ed.type ?? []).map((t) => t.code);
      if (!steps.length) return !!type && types.includes(type);
      return values.some((v) => types.includes((v as Resource)?.resourceType ?? ''));
    }
    case 'exists': {
      const target = nodeAt(slice, steps);
      if (!target) return false;
      return (target.ed.min ?? 0) > 0 ? values.length > 0 : target.ed.max === '0' ? values.length === 0 : true;
    }
    case 'profile': {
      // Type first (a resource of another type never conforms, and the walk of a profile does not
      // look at resourceType), then conformance to the profiles of the types that fit.
      const target = nodeAt(slice, steps) ?? slice;
      return values.some((v) => (target.ed.type ?? []).some((t) => fitsType(t.code, v) && (t.profile ?? []).some((p) => conforms(p, v))));
    }
    default:
      return false;
  }
}

/** Whether a value can be of a type: a resource only of its own type (or Resource, DomainResource); other values are left to conformance. */
function fitsType(code: string | undefined, value: unknown): boolean {
  const resourceType = (value as Resource | null)?.resourceType;
  if (typeof resourceType !== 'string') return true;
  return code === resourceType || code === 'Resource' || code === 'DomainResource';
}

function hasCoding(value: unknown, codings: Set<string>): boolean {
  const v = value as { system?: string; code?: string; coding?: { system?: string; code?: string }[] };
  const list = v?.coding ?? [v];
  return list.some((c) => codings.has(`${c?.system}|${c?.code}`));
}

type Step = { name: string } | { extension: string } | { ofType: string };

/** Parses a discriminator path; undefined for what cannot be evaluated here (resolve()). */
function parsePath(path: string): Step[] | undefined {
  if (path === '$this') return [];
  const steps: Step[] = [];
  for (const part of path.replace(/^\$this\./, '').match(/(?:[^.(]+(?:\([^)]*\))?)/g) ?? []) {
    const ext = /^extension\('([^']+)'\)$/.exec(part);
    const ofType = /^ofType\(([^)]+)\)$/.exec(part);
    if (ext) steps.push({ extension: ext[1] });
    else if (ofType) steps.push({ ofType: ofType[1] });
    else if (part === 'resolve()') return undefined;
    else steps.push({ name: part });
  }
  return steps;
}

function navigate(values: unknown[], steps: Step[]): unknown[] {
  let current = values;
  for (const step of steps) {
    const next: unknown[] = [];
    for (const v of current) {
      if (v === null || typeof v !== 'object') continue;
      const object = v as Record<string, unknown>;
      if ('name' in step) {
        const direct = object[step.name];
        if (direct !== undefined) next.push(...(Array.isArray(direct) ? direct : [direct]));
        else if (step.name.endsWith('[x]') || step.name === 'value') {
          const stem = step.name.replace('[x]', '');
          for (const [k, x] of Object.entries(object)) if (k.startsWith(stem) && /^[A-Z]/.test(k.slice(stem.length))) next.push(x);
        }
      } else if ('extension' in step) {
        const list = Array.isArray(object.extension) ? object.extension : [];
        next.push(...list.filter((e: { url?: string }) => e?.url === step.extension));
      } else {
        next.push(v);
      }
    }
    current = next;
  }
  return current;
}

/** The element a discriminator path names within a slice (the first, when slices of it are crossed). */
function nodeAt(slice: ElementNode, steps: Step[]): ElementNode | undefined {
  return walkSteps(slice, steps).find((f) => f.node)?.node;
}

/**
 * The fixed or pattern values a slice gives at a discriminator path: on the element itself, on
 * slices of the elements crossed (a coding slice fixing `code.coding.code`), or the part of a
 * pattern set higher up (a pattern on `type` fixes `type.coding`). For an extension slice
 * discriminated by `url`, the URL of the extension's profile.
 */
function expectedAt(slice: ElementNode, steps: Step[]): NonNullable<ElementNode['expected']>[] {
  return walkSteps(slice, steps).flatMap((f) => (f.expected ? [f.expected] : []));
}

interface Reached {
  node?: ElementNode;
  expected?: ElementNode['expected'];
}

function walkSteps(slice: ElementNode, steps: Step[]): Reached[] {
  let frontier: Reached[] = [{ node: slice, expected: slice.expected }];
  steps.forEach((step, i) => {
    const next: Reached[] = [];
    for (const { node, expected } of frontier) {
      const inherited = expected && 'name' in step ? part(expected, step.name) : undefined;
      if ('name' in step && step.name === 'url' && i === steps.length - 1 && node && !node.children.some((c) => c.name === 'url')) {
        const url = extensionUrl(node);
        if (url) next.push({ expected: { kind: 'fixed', value: url } });
        continue;
      }
      const found = node ? childrenAt(node, step) : [];
      for (const child of found) next.push({ node: child, expected: child.expected ?? inherited });
      if (!found.length && inherited) next.push({ expected: inherited });
    }
    frontier = next;
  });
  return frontier;
}

function childrenAt(node: ElementNode, step: Step): ElementNode[] {
  if ('extension' in step) return node.children.find((c) => c.name === 'extension')?.slices.filter((s) => extensionUrl(s) === step.extension) ?? [];
  if (!('name' in step)) return [node];
  const child = node.children.find((c) => c.name === step.name || c.name === `${step.name}[x]`);
  return child ? [child, ...child.slices] : [];
}

/** The part of a pattern under a property name (across the items of an array). */
function part(expected: NonNullable<ElementNode['expected']>, name: string): ElementNode['expected'] {
  const at = (v: unknown) => (v !== null && typeof v === 'object' ? (v as Record<string, unknown>)[name] : undefined);
  const value = Array.isArray(expected.value)
    ? expected.value
        .map(at)
        .filter((x) => x !== undefined)
        .flat()
    : at(expected.value);
  return value === undefined ? undefined : { kind: expected.kind, value };
}

/** The URL an extension slice stands for: its fixed url child, or its type's extension profile. */
export function extensionUrl(slice: ElementNode): string | undefined {
  const fixed = slice.children.find((c) => c.name === 'url')?.expected?.value;
  if (typeof fixed === 'string') return fixed;
  const profile = slice.ed.type?.find((t) => t.code === 'Extension')?.profile?.[0];
  return profile?.split('|')[0];
}
