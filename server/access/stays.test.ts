import { beforeAll, describe, expect, it } from 'vitest';
import { DATABASES, useServer } from '../../tests/harness.js';
import { APP_REDIRECT, call, operatorToken, OPERATOR, registerApp, enrolPractitioner, userToken } from '../../tests/smart.js';
import { statements as stayLinkMigration } from '../store/migrations/020-stay-links.js';

/**
 * A hospital holds the record of its stays (CSP L1110-12, DOMAIN.md §4.2): its staff see the
 * patients of its stays (in any of its services, which are `partOf` it) while the stay is planned
 * or under way and for 30 days after it ends, and the tasks asked for them; nothing of another
 * hospital's stays, of a stay long over, of a cancelled one; and a stay cannot be written to open
 * a patient of someone else's équipe.
 */
const DAY = 86_400_000;
const day = (n: number) => new Date(Date.now() + n * DAY).toISOString();
const STAYS: [patient: string, status: string, service: string, start: number, end?: number][] = [
  ['s-now', 'in-progress', 'ch-med', -3],
  ['s-planned', 'planned', 'ch-cardio', 5],
  ['s-discharged', 'finished', 'ch-med', -10, -4],
  ['s-long-ago', 'finished', 'ch-med', -90, -80],
  ['s-cancelled', 'cancelled', 'ch-med', 2],
  ['s-elsewhere', 'in-progress', 'other-med', -1],
];
const SEES = ['s-discharged', 's-now', 's-planned'];
const PASSWORD = 'a long test passphrase';
const APP = 'hospital-app';
const SCOPE = 'openid fhirUser user/*.cruds';

describe.each(DATABASES)('a hospital and the patients of its stays on %s', (kind) => {
  const t = useServer(kind, { auth: true, ...OPERATOR, accessRules: { recordHolders: ['ch', 'other'], clientOrganizations: {}, breakGlassMinutes: 0 } });
  const tokens = {} as Record<'operator' | 'nurse' | 'outsider', string>;
  const as = (who: keyof typeof tokens, method: string, path: string, body?: unknown) => call(method, `${t.server.url}/fhir/${path}`, tokens[who], body);

  beforeAll(async () => {
    tokens.operator = await operatorToken(t.server.url);
    const put = async (r: Record<string, any>) => {
      const res = await as('operator', 'PUT', `${r.resourceType}/${r.id}`, r);
      if (res.status >= 300) throw new Error(`${r.resourceType}/${r.id}: ${JSON.stringify(res.body)}`);
    };
    for (const [id, partOf] of [
      ['ch', undefined],
      ['ch-med', 'ch'],
      ['ch-cardio', 'ch'],
      ['other', undefined],
      ['other-med', 'other'],
    ])
      await put({ resourceType: 'Organization', id, name: id, ...(partOf ? { partOf: { reference: `Organization/${partOf}` } } : {}) });
    for (const [who, org] of [
      ['nurse', 'ch'],
      ['outsider', 'other'],
    ] as const) {
      await enrolPractitioner(t.server.url, tokens.operator, who, org, PASSWORD);
    }
    for (const [patient, status, service, start, end] of STAYS) {
      await put({ resourceType: 'Patient', id: patient, name: [{ family: patient }] });
      await put({
        resourceType: 'Encounter',
        id: `stay-${patient}`,
        status,
        class: { code: 'IMP' },
        subject: { reference: `Patient/${patient}` },
        serviceProvider: { reference: `Organization/${service}` },
        period: { start: day(start), ...(end !== undefined ? { end: day(end) } : {}) },
      });
    }
    await put({
      resourceType: 'Task',
      id: 'follow-up',
      status: 'requested',
      intent: 'order',
      for: { reference: 'Patient/s-discharged' },
      requester: { reference: 'PractitionerRole/role-nurse' },
      description: 'Consultation de suivi',
    });
    await registerApp(t.server.url, { client_id: APP, token_endpoint_auth_method: 'none', redirect_uris: [APP_REDIRECT], scope: SCOPE });
    for (const who of ['nurse', 'outsider'] as const)
      tokens[who] = await userToken(t.server.url, { clientId: APP, scope: SCOPE, username: who, password: PASSWORD, role: `role-${who}` });
  });

  const ids = (reply: any) => (reply.body.entry ?? []).map((e: any) => e.resource.id).sort();

  it('shows the hospital’s staff the patients of its current, planned and recent stays, in any of its services', async () => {
    expect(ids(await as('nurse', 'GET', 'Patient?_count=50'))).toEqual(SEES);
    expect((await as('nurse', 'GET', 'Patient?_summary=count')).body.total).toBe(SEES.length);
    for (const [patient] of STAYS)
      expect([patient, (await as('nurse', 'GET', `Patient/${patient}`)).status]).toEqual([patient, SEES.includes(patient) ? 200 : 403]);
    expect(ids(await as('nurse', 'GET', 'Task?requester=PractitionerRole/role-nurse'))).toEqual(['follow-up']);
    expect(ids(await as('outsider', 'GET', 'Patient?_count=50'))).toEqual(['s-elsewhere']);
    expect(ids(await as('outsider', 'GET', 'Task'))).toEqual([]);
  });

  it('refuses a stay written to open a patient of another équipe, and one moved to another patient', async () => {
    const stay = (id: string, patient: string) => ({
      resourceType: 'Encounter',
      id,
      status: 'in-progress',
      class: { code: 'IMP' },
      subject: { reference: `Patient/${patient}` },
      serviceProvider: { reference: 'Organization/ch-med' },
    });
    expect((await as('nurse', 'PUT', 'Encounter/grab', stay('grab', 's-elsewhere'))).status).toBe(403);
    expect((await as('nurse', 'POST', 'Encounter', stay('grab', 's-elsewhere'))).status).toBe(403);
    expect((await as('nurse', 'GET', 'Patient/s-elsewhere')).status).toBe(403);
    expect((await as('nurse', 'PUT', 'Encounter/stay-s-now', stay('stay-s-now', 's-elsewhere'))).status).toBe(403);
    // Her own patient's next stay is hers to record.
    expect((await as('nurse', 'PUT', 'Encounter/second', stay('second', 's-now'))).status).toBe(201);
  });

  it('builds the links of the stays already stored as the writes do (migration 020)', async () => {
    const db = t.server.db;
    const links = () =>
      db.query<{ patient: string; actor: string; until: string }>(
        `SELECT patient, actor, until::text FROM care_link l JOIN resource r ON r.rid = l.rid WHERE r.type = 'Encounter' AND r.id LIKE 'stay-%' ORDER BY patient`,
      );
    const written = await links();
    expect(written.map((l) => l.patient)).toEqual(['s-discharged', 's-elsewhere', 's-long-ago', 's-now', 's-planned']);
    await db.query(`DELETE FROM care_link WHERE rid IN (SELECT rid FROM resource WHERE type = 'Encounter' AND id LIKE 'stay-%')`);
    for (const sql of stayLinkMigration) await db.query(sql);
    const built = await links();
    // To the second: a stay's end is kept to the last instant of its precision (care-links.ts), the SQL takes it as written.
    const instant = (l: { until: string }) => (l.until === 'infinity' ? l.until : Math.round(Date.parse(l.until) / 1000));
    expect(built.map((l) => [l.patient, l.actor, instant(l)])).toEqual(written.map((l) => [l.patient, l.actor, instant(l)]));
  });
});
