import type { ElementDefinition, StructureDefinition } from '@medplum/fhirtypes';
import type { Registry } from './canonicals.js';
import { generateSnapshot } from './snapshot.js';

/** StructureDefinitions with the snapshot generated for them (their differential-only originals as keys). */
const generated = new WeakMap<StructureDefinition, StructureDefinition>();
/** What the generator could not apply, by profile URL. */
const generationIssues = new WeakMap<StructureDefinition, string[]>();

/** Something the registry gave in place of what was asked: `url|1.1.0` answered with 1.2.0. */
export interface Substitution {
  canonical: string;
  used: string;
}

/**
 * The StructureDefinition a canonical names, with its snapshot (generated from the differential
 * when it has none). Version substitutions are reported to `substitutions`.
 */
export function structureDefinition(registry: Registry, canonical: string, substitutions?: Substitution[]): StructureDefinition | undefined {
  const resolved = registry.resolve<StructureDefinition>('StructureDefinition', canonical);
  if (!resolved) return undefined;
  if (resolved.substitutedFor) substitutions?.push({ canonical, used: `${resolved.resource.url}|${resolved.resource.version ?? ''}` });
  return withSnapshot(registry, resolved.resource, substitutions);
}

const inProgress = new Set<StructureDefinition>();

export function withSnapshot(registry: Registry, sd: StructureDefinition, substitutions?: Substitution[]): StructureDefinition {
  if (sd.snapshot?.element?.length) return sd;
  const done = generated.get(sd);
  if (done) return done;
  if (inProgress.has(sd)) throw new Error(`${sd.url} is its own base or type`);
  inProgress.add(sd);
  try {
    const { elements, issues } = generateSnapshot(sd, (c) => structureDefinition(registry, c, substitutions));
    return adoptSnapshot(sd, elements, issues);
  } finally {
    inProgress.delete(sd);
  }
}

/** Gives a differential-only StructureDefinition its snapshot (generated now, or read from the cache). */
export function adoptSnapshot(sd: StructureDefinition, elements: ElementDefinition[], issues: string[] = []): StructureDefinition {
  const full = { ...sd, snapshot: { element: elements } };
  generated.set(sd, full);
  generationIssues.set(full, issues);
  return full;
}

export function hasGeneratedSnapshot(sd: StructureDefinition): boolean {
  return !!sd.snapshot?.element?.length || generated.has(sd);
}

export function snapshotIssues(sd: StructureDefinition): string[] {
  return generationIssues.get(sd) ?? [];
}
