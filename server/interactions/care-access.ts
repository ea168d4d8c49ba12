import type { CareTeam, Consent, Resource } from '@medplum/fhirtypes';
import { parseLocalReference } from '../fhir/ids.js';
import { SqlParams } from '../search/sql.js';
import { caresForSql, type Visibility } from '../search/visibility.js';
import type { Queryable } from '../store/db.js';

/** The patient a CareTeam or Consent is about (`Patient/[id]` only), undefined for other types; '' for none or another. */
export function linkPatient(type: string, resource: Resource | undefined): string | undefined {
  if (type !== 'CareTeam' && type !== 'Consent') return undefined;
  const ref = type === 'CareTeam' ? (resource as CareTeam | undefined)?.subject : (resource as Consent | undefined)?.patient;
  const parsed = ref?.reference ? parseLocalReference(ref.reference) : undefined;
  return parsed?.type === 'Patient' ? parsed.id : '';
}

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
