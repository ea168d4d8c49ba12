import type { Resource } from '@medplum/fhirtypes';
import { linkedPatient } from './care-links.js';
import { fail } from '../fhir/outcome.js';
import { SqlParams } from '../search/sql-params.js';
import { caresForSql, type Visibility } from './visibility.js';
import type { Queryable } from '../store/db.js';
import type { StoredVersion } from '../store/resources.js';

/**
 * Whether the caller may link people to a patient: they care for the patient already (whatever
 * its oppositions, so that these can be withdrawn), or nobody is linked to it yet.
 */
export async function openToLinks(q: Queryable, v: Visibility, patient: string): Promise<boolean> {
  const p = new SqlParams();
  const id = p.add(patient);
  const sql = `SELECT ${caresForSql(v, `${id}::text`, p)} OR NOT EXISTS (SELECT 1 FROM care_link WHERE patient = ${id}) AS open`;
  return (await q.query<{ open: boolean }>(sql, p.values))[0].open;
}

/**
 * A CareTeam, Encounter or Consent, as it will be stored, names a patient the caller could already see (or
 * one nobody is linked to yet), and a change keeps the patient it had. The patient is read as the
 * care links read it (linkedPatient): whichever way the reference was written, the one checked is
 * the one linked.
 */
export async function checkLinkWrite(q: Queryable, v: Visibility, fhirBase: string, previous: StoredVersion | undefined, next: Resource | null): Promise<void> {
  if (!next) return;
  const patient = linkedPatient(next, fhirBase);
  if (previous?.content && linkedPatient(JSON.parse(previous.content) as Resource, fhirBase) !== patient) {
    throw fail(403, 'forbidden', `A ${next.resourceType} keeps its patient`);
  }
  if (patient !== undefined && !(await openToLinks(q, v, patient))) throw fail(403, 'forbidden', `Patient/${patient} is outside your équipe de soins`);
}
