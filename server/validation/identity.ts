import type { Extension, Patient } from '@medplum/fhirtypes';
import { SYSTEMS } from '../fhir/french-ids.js';
import { badRequest } from '../fhir/outcome.js';

const RELIABILITY = 'https://hl7.fr/ig/fhir/core/StructureDefinition/fr-core-identity-reliability';
const INS_SYSTEMS: string[] = [SYSTEMS.insNir, SYSTEMS.insNia, SYSTEMS.insNirTest, SYSTEMS.insNirDemo];
const TEST_SYSTEMS: string[] = [SYSTEMS.insNirTest, SYSTEMS.insNirDemo];

/** The identity status codes of a Patient's FR Core identityReliability extensions. */
function identityStatuses(patient: Patient): string[] {
  return (patient.extension ?? [])
    .filter((e) => e.url === RELIABILITY)
    .flatMap((e) => (e.extension ?? []).filter((x: Extension) => x.url === 'identityStatus').map((x) => x.valueCoding?.code ?? ''));
}

/**
 * Identity vigilance (RNIV, FR Core 2.2.0 fr-core-patient-ins): an INS (INS-NIR, INS-NIA, and
 * their test and demo OIDs) only on a validated identity, identityReliability status VALI (the
 * status FR Core 2.2.0's invariants key the INS on); the test and demo OIDs only where the
 * configuration allows them (tests, the demo), never in production. The NIR's format and key are
 * checked with the other French identifiers (validation/french.ts).
 */
export function checkIdentity(patient: Patient, testIdentities: boolean): void {
  const validated = identityStatuses(patient).includes('VALI');
  (patient.identifier ?? []).forEach((id, i) => {
    if (!id.system || !INS_SYSTEMS.includes(id.system)) return;
    const where = [`Patient.identifier[${i}]`];
    if (TEST_SYSTEMS.includes(id.system) && !testIdentities) {
      throw badRequest(`${id.system} is a test or demo INS, refused outside a test configuration (INS_TEST_IDENTITIES)`, where);
    }
    if (!validated) throw badRequest('An INS may only be carried by a validated identity (FR Core identityReliability, identityStatus VALI)', where);
  });
}
