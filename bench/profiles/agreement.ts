import type { ElementDefinition, StructureDefinition } from '@medplum/fhirtypes';
import { readPackage, type FhirPackage } from '../../server/packages/files.js';
import { Registry } from '../../server/validation/canonicals.js';
import { withSnapshot } from '../../server/validation/structures.js';

/**
 * Snapshot agreement with the IG Publisher: the published snapshots of a package are set aside,
 * regenerated from the differentials, and compared element by element (by element id). An
 * element agrees when it is in both and every property that validation reads is equal.
 */
export interface Agreement {
  package: string;
  profiles: number;
  elements: number;
  agreeing: number;
  /** Profiles whose snapshot agrees on every element. */
  wholeProfiles: number;
  /** Differences by property, with a few examples. */
  differences: Map<string, string[]>;
  failures: string[];
}

/** Properties compared; canonicals are compared without their `|version` (the Publisher adds them). */
const PROPERTIES = [
  'path',
  'sliceName',
  'min',
  'max',
  'type',
  'fixed',
  'pattern',
  'binding',
  'slicing',
  'constraint',
  'mustSupport',
  'isModifier',
  'contentReference',
  'maxLength',
];

export function measureAgreement(under: FhirPackage, dependencies: FhirPackage[]): Agreement {
  const registry = new Registry();
  for (const p of dependencies) for (const r of p.resources) registry.hold(`${r.resourceType}/${p.manifest.name}/${r.id}`, '1', r);
  const published = new Map<string, ElementDefinition[]>();
  for (const r of under.resources) {
    if (r.resourceType === 'StructureDefinition' && r.snapshot) {
      published.set(r.url as string, r.snapshot.element);
      const { snapshot: _dropped, ...differential } = r;
      registry.hold(`${r.resourceType}/${under.manifest.name}/${r.id}`, '1', differential as StructureDefinition);
    } else {
      registry.hold(`${r.resourceType}/${under.manifest.name}/${r.id}`, '1', r);
    }
  }
  const result: Agreement = {
    package: `${under.manifest.name}#${under.manifest.version}`,
    profiles: 0,
    elements: 0,
    agreeing: 0,
    wholeProfiles: 0,
    differences: new Map(),
    failures: [],
  };
  for (const [url, expected] of published) {
    result.profiles++;
    const sd = registry.resolve<StructureDefinition>('StructureDefinition', url)?.resource as StructureDefinition;
    let generated: ElementDefinition[] = [];
    try {
      generated = withSnapshot(registry, sd).snapshot?.element ?? [];
    } catch (err) {
      result.failures.push(`${url}: ${(err as Error).message}`);
    }
    const ours = new Map(generated.map((e) => [e.id as string, e]));
    const ids = new Set([...expected.map((e) => e.id as string), ...ours.keys()]);
    const theirs = new Map(expected.map((e) => [e.id as string, e]));
    let whole = true;
    for (const id of ids) {
      result.elements++;
      const diff = compare(theirs.get(id), ours.get(id));
      if (!diff) {
        result.agreeing++;
        continue;
      }
      whole = false;
      const list = result.differences.get(diff.property) ?? [];
      if (list.length < 6) list.push(`${url.split('/').pop()} ${id}: ${diff.detail}`);
      result.differences.set(diff.property, list);
      if (!result.differences.has(diff.property)) result.differences.set(diff.property, list);
      countDifference(result, diff.property);
    }
    if (whole) result.wholeProfiles++;
  }
  return result;
}

const counts = new WeakMap<Agreement, Map<string, number>>();
function countDifference(a: Agreement, property: string) {
  const m = counts.get(a) ?? new Map<string, number>();
  m.set(property, (m.get(property) ?? 0) + 1);
  counts.set(a, m);
}
export function differenceCounts(a: Agreement): Map<string, number> {
  return counts.get(a) ?? new Map();
}

function compare(expected: ElementDefinition | undefined, actual: ElementDefinition | undefined): { property: string; detail: string } | undefined {
  if (!expected) return { property: 'extra element', detail: 'generated, not published' };
  if (!actual) return { property: 'missing element', detail: 'published, not generated' };
  for (const property of PROPERTIES) {
    const a = JSON.stringify(normalise(property, expected));
    const b = JSON.stringify(normalise(property, actual));
    if (a !== b) return { property, detail: `published ${a?.slice(0, 160)} generated ${b?.slice(0, 160)}` };
  }
  return undefined;
}

function normalise(property: string, e: ElementDefinition): unknown {
  const unversioned = (c: string) => c.split('|')[0];
  switch (property) {
    case 'type':
      return (e.type ?? []).map((t) => ({
        code: t.code,
        profile: t.profile?.map(unversioned),
        targetProfile: t.targetProfile?.map(unversioned),
      }));
    case 'fixed':
    case 'pattern':
      return Object.entries(e).filter(([k]) => k.startsWith(property));
    case 'binding':
      return e.binding ? { strength: e.binding.strength, valueSet: e.binding.valueSet && unversioned(e.binding.valueSet) } : undefined;
    case 'slicing':
      return e.slicing ? { d: e.slicing.discriminator, r: e.slicing.rules, o: e.slicing.ordered ?? false } : undefined;
    case 'constraint':
      return (e.constraint ?? []).map((c) => c.key).sort();
    case 'mustSupport':
    case 'isModifier':
      return e[property] ?? false;
    default:
      return (e as unknown as Record<string, unknown>)[property];
  }
}

export function readPackages(root: string, names: string[]): FhirPackage[] {
  return names.map((n) => readPackage(`${root}/${n}`));
}
