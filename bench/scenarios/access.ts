import type { Scenario } from '../harness/scenario.js';
import { pick } from '../harness/scenario.js';

/** The first pôle's MSP: the organisation the secured server's client acts for, and the holder of its patients' records. */
async function msp(db: import('pg').Pool): Promise<string> {
  const { rows } = await db.query<{ id: string }>(
    `SELECT id FROM resource WHERE type = 'Organization' AND id LIKE '%-msp' AND NOT deleted ORDER BY id LIMIT 1`,
  );
  if (!rows.length) throw new Error('access: the data set has no MSP');
  return rows[0].id;
}

/**
 * Reads and searches of the patients one MSP may see (holder of their records, no opposition):
 * the same requests on Maillage with AUTH=off and with authorization on, where a system client
 * acting for the MSP gets the équipe-de-soins rules (in SQL) and an AuditEvent per request.
 */
const access: Scenario = {
  name: 'access',
  title: 'access rules and audit: reads and searches (with _include) of one MSP’s patients, AUTH on vs off',
  ceiling: false,
  async secured({ db }) {
    const org = await msp(db);
    return { BOOTSTRAP_CLIENT_ORGANIZATION: org, RECORD_HOLDERS: org };
  },
  async prepare({ db }) {
    const org = await msp(db);
    const { rows: patients } = await db.query<{ patient: string }>(
      `SELECT patient FROM care_link WHERE kind = 'holder' AND actor = $1 AND until > now()
       EXCEPT SELECT patient FROM care_link WHERE kind = 'deny'`,
      [`Organization/${org}`],
    );
    if (!patients.length) throw new Error('access: no patient held by the MSP (a data set loaded before the care links?)');
    const ids = patients.map((p) => p.patient);
    const { rows: data } = await db.query<{ path: string }>(
      `SELECT '/fhir/' || x.type || '/' || r.id AS path FROM sp_reference x JOIN resource r ON r.rid = x.rid
        WHERE x.param IN ('subject', 'patient') AND x.target_type = 'Patient' AND x.target_id = ANY($1::text[]) AND x.type IN ('Observation', 'Encounter', 'Condition', 'CarePlan')`,
      [ids],
    );
    const paths = data.map((d) => d.path);
    const requests = [
      () => `/fhir/Patient/${pick(ids)}`,
      () => pick(paths),
      () => `/fhir/Observation?subject=Patient/${pick(ids)}&_count=20`,
      () => `/fhir/Encounter?subject=Patient/${pick(ids)}&_include=Encounter:subject`,
      () => `/fhir/CarePlan?status=active&_count=20`,
    ];
    return [{ method: 'GET', setupRequest: (req) => ({ ...req, path: pick(requests)() }) }];
  },
};

export default access;
