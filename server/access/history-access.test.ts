import { beforeAll, describe, expect, it } from 'vitest';
import { DATABASES, useServer } from '../../tests/harness.js';
import { APP_REDIRECT, call, operatorToken, OPERATOR, registerApp, enrolPractitioner, userToken, opposition } from '../../tests/smart.js';

/**
 * Each version of a history under the équipe-de-soins rules, on the patients it names, through
 * real tokens. Two patients, each with a team: `a` cares for PA, `b` for PB, `both` for both.
 * `obs-moved` named PA, then PB; `obs-gone` named PA, then was deleted.
 */
const ORGS = { a: 'cabinet-a', b: 'cabinet-b', both: 'cabinet-c' } as const;
type Actor = keyof typeof ORGS;
const PASSWORD = 'a long test passphrase';
const APP = 'history-app';
const PATIENT_APP = 'patient-app';

type Entry = { fullUrl: string; resource?: { resourceType: string; id: string }; response: { status: string; etag: string } };

const team = (patient: string, roles: string[]) => ({
  resourceType: 'CareTeam',
  id: `cds-${patient}`,
  status: 'active',
  subject: { reference: `Patient/${patient}` },
  participant: roles.map((role) => ({ member: { reference: `PractitionerRole/role-${role}` }, period: { start: '2020-01-01' } })),
});
const observation = (id: string, patient: string, text: string) => ({
  resourceType: 'Observation',
  id,
  status: 'final',
  code: { text },
  subject: { reference: `Patient/${patient}` },
});
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe.each(DATABASES)('versions under the équipe-de-soins rules on %s', (kind) => {
  const t = useServer(kind, { auth: true, ...OPERATOR });
  const origin = () => t.server.url;
  const tokens = {} as Record<Actor | 'operator' | 'patientB', string>;
  const as = (who: keyof typeof tokens, method: string, path: string, body?: unknown) => call(method, `${origin()}/fhir/${path}`, tokens[who], body);
  /** `Type/id W/"n"` of each entry of a history Bundle. */
  const versions = (reply: { body: { entry?: Entry[] } }) =>
    (reply.body.entry ?? []).map((e) => `${e.fullUrl.slice(`${origin()}/fhir/`.length)} ${e.response.etag}`);
  /** The versions that name PA, as stored. */
  const PA_VERSIONS = ['Patient/pa W/"1"', 'CareTeam/cds-pa W/"1"', 'Observation/obs-moved W/"1"', 'Observation/obs-gone W/"1"', 'Observation/obs-gone W/"2"'];
  let start = '';
  let between = '';

  beforeAll(async () => {
    tokens.operator = await operatorToken(origin());
    const put = async (r: Record<string, any>) => {
      const res = await as('operator', 'PUT', `${r.resourceType}/${r.id}`, r);
      if (res.status >= 300) throw new Error(`${r.resourceType}/${r.id}: ${JSON.stringify(res.body)}`);
    };
    start = new Date().toISOString();
    await sleep(5);
    for (const [actor, org] of Object.entries(ORGS)) {
      await put({ resourceType: 'Organization', id: org, name: org });
      await enrolPractitioner(origin(), tokens.operator, actor, org, PASSWORD);
    }
    for (const id of ['pa', 'pb']) await put({ resourceType: 'Patient', id, name: [{ family: `Famille-${id}` }] });
    await put(team('pa', ['a', 'both']));
    await put(team('pb', ['b', 'both']));
    await put(observation('obs-moved', 'pa', 'noted for PA'));
    await sleep(20);
    between = new Date().toISOString();
    await sleep(20);
    await put(observation('obs-moved', 'pb', 'moved to PB'));
    await put(observation('obs-gone', 'pa', 'deleted'));
    if ((await as('operator', 'DELETE', 'Observation/obs-gone')).status !== 200) throw new Error('delete');
    // PC, in A's care, opposes A: A keeps the Consent (to withdraw it), not the rest.
    await put({ resourceType: 'Patient', id: 'pc', name: [{ family: 'Famille-pc' }] });
    await put(team('pc', ['a']));
    await put(observation('obs-pc', 'pc', 'opposed'));
    await put(
      opposition('consent-pc', 'pc', {
        type: 'permit',
        provision: [{ type: 'deny', actor: [{ role: { text: 'recipient' }, reference: { reference: 'PractitionerRole/role-a' } }] }],
      }),
    );

    const scope = 'openid fhirUser user/*.cruds';
    await registerApp(origin(), {
      client_id: APP,
      token_endpoint_auth_method: 'none',
      redirect_uris: [APP_REDIRECT],
      grant_types: ['authorization_code'],
      scope,
    });
    const login = async (clientId: string, actor: Actor, scopes: string, patient?: string) => {
      return userToken(origin(), { clientId, scope: scopes, username: actor, password: PASSWORD, role: `role-${actor}`, patient });
    };
    for (const actor of Object.keys(ORGS) as Actor[]) tokens[actor] = await login(APP, actor, scope);
    const patientScope = 'launch/patient patient/*.rs';
    await registerApp(origin(), {
      client_id: PATIENT_APP,
      token_endpoint_auth_method: 'none',
      redirect_uris: [APP_REDIRECT],
      grant_types: ['authorization_code'],
      scope: patientScope,
    });
    tokens.patientB = await login(PATIENT_APP, 'both', patientScope, 'pb');
  });

  it('a resource moved from PA to PB: PB’s équipe gets its PB versions, never its PA ones, in vread and every history', async () => {
    expect((await as('b', 'GET', 'Observation/obs-moved/_history/1')).status).toBe(403);
    const current = await as('b', 'GET', 'Observation/obs-moved/_history/2');
    expect([current.status, current.body.code.text]).toEqual([200, 'moved to PB']);
    const instance = await as('b', 'GET', 'Observation/obs-moved/_history');
    expect([instance.body.total, versions(instance)]).toEqual([1, ['Observation/obs-moved W/"2"']]);
    // The version current at `between` was PA's.
    expect(versions(await as('b', 'GET', `Observation/obs-moved/_history?_at=${encodeURIComponent(between)}`))).toEqual([]);
    expect(versions(await as('b', 'GET', `Observation/obs-moved/_history?_since=${encodeURIComponent(start)}`))).toEqual(['Observation/obs-moved W/"2"']);
    for (const path of ['Observation/_history?_count=1000', `Observation/_history?_since=${encodeURIComponent(start)}&_count=1000`, '_history?_count=1000']) {
      const listed = versions(await as('b', 'GET', path));
      expect(listed, path).toContain('Observation/obs-moved W/"2"');
      expect(
        listed.filter((v) => PA_VERSIONS.includes(v)),
        path,
      ).toEqual([]);
    }
    expect(versions(await as('b', 'GET', '_history?_count=1000'))).toContain('Patient/pb W/"1"');
    // PA's équipe, the other way round.
    expect((await as('a', 'GET', 'Observation/obs-moved/_history/1')).status).toBe(200);
    expect((await as('a', 'GET', 'Observation/obs-moved/_history/2')).status).toBe(403);
    expect(versions(await as('a', 'GET', 'Observation/obs-moved/_history'))).toEqual(['Observation/obs-moved W/"1"']);
    expect(versions(await as('a', 'GET', `Observation/obs-moved/_history?_at=${encodeURIComponent(between)}`))).toEqual(['Observation/obs-moved W/"1"']);
    // Whoever cares for both sees both.
    expect(versions(await as('both', 'GET', 'Observation/obs-moved/_history'))).toEqual(['Observation/obs-moved W/"2"', 'Observation/obs-moved W/"1"']);
  });

  it('the same requests as batch entries', async () => {
    const batch = await as('b', 'POST', '', {
      resourceType: 'Bundle',
      type: 'batch',
      entry: [
        'Observation/obs-moved/_history/1',
        'Observation/obs-moved/_history/2',
        'Observation/obs-moved/_history',
        'Observation/obs-gone/_history/1',
        'Observation/obs-gone/_history',
        'Observation/_history?_count=1000',
        '_history?_count=1000',
      ].map((url) => ({
        request: { method: 'GET', url },
      })),
    });
    expect(batch.status).toBe(200);
    const entries = batch.body.entry as { response: { status: string }; resource?: { entry?: Entry[] } }[];
    expect(entries.map((e) => e.response.status.slice(0, 3))).toEqual(['403', '200', '200', '403', '403', '200', '200']);
    expect(versions({ body: entries[2].resource ?? {} })).toEqual(['Observation/obs-moved W/"2"']);
    for (const e of entries.slice(5)) expect(versions({ body: e.resource ?? {} }).filter((v) => PA_VERSIONS.includes(v))).toEqual([]);
  });

  it('a deleted resource’s versions and tombstone stay with its patient’s équipe, and nobody else', async () => {
    expect((await as('a', 'GET', 'Observation/obs-gone')).status).toBe(410);
    expect((await as('b', 'GET', 'Observation/obs-gone')).status).toBe(410);
    const kept = await as('a', 'GET', 'Observation/obs-gone/_history/1');
    expect([kept.status, kept.body.code.text]).toEqual([200, 'deleted']);
    expect((await as('a', 'GET', 'Observation/obs-gone/_history/2')).status).toBe(410);
    const history = await as('a', 'GET', 'Observation/obs-gone/_history');
    expect([history.body.total, versions(history)]).toEqual([2, ['Observation/obs-gone W/"2"', 'Observation/obs-gone W/"1"']]);
    expect(versions(await as('a', 'GET', 'Observation/_history?_count=1000'))).toEqual(
      expect.arrayContaining(['Observation/obs-gone W/"2"', 'Observation/obs-gone W/"1"', 'Observation/obs-moved W/"1"']),
    );
    // Outside PA's équipe: the versions exist, out of reach (403 as a read of what one may not
    // see), and lists leave them out.
    expect((await as('b', 'GET', 'Observation/obs-gone/_history/1')).status).toBe(403);
    expect((await as('b', 'GET', 'Observation/obs-gone/_history/2')).status).toBe(403);
    expect((await as('b', 'GET', 'Observation/obs-gone/_history')).status).toBe(403);
    expect(
      versions(await as('b', 'GET', `_history?_since=${encodeURIComponent(start)}&_count=1000`)).filter((v) => v.startsWith('Observation/obs-gone')),
    ).toEqual([]);
  });

  it('a Consent’s versions stay readable by the équipe it opposes, the rest of the patient’s data not', async () => {
    expect((await as('a', 'GET', 'Consent/consent-pc/_history/1')).status).toBe(200);
    expect(versions(await as('a', 'GET', 'Consent/consent-pc/_history'))).toEqual(['Consent/consent-pc W/"1"']);
    expect(versions(await as('a', 'GET', 'Consent/_history'))).toContain('Consent/consent-pc W/"1"');
    expect((await as('a', 'GET', 'Observation/obs-pc/_history/1')).status).toBe(403);
    const system = versions(await as('a', 'GET', '_history?_count=1000'));
    expect(system).toContain('Consent/consent-pc W/"1"');
    expect(system.filter((v) => v.startsWith('Observation/obs-pc') || v.startsWith('Patient/pc'))).toEqual([]);
    expect((await as('b', 'GET', 'Consent/consent-pc/_history/1')).status).toBe(403);
  });

  it('a patient/ scope shows only the versions that name its patient', async () => {
    expect((await as('patientB', 'GET', 'Observation/obs-moved/_history/1')).status).toBe(403);
    expect((await as('patientB', 'GET', 'Observation/obs-moved/_history/2')).status).toBe(200);
    expect(versions(await as('patientB', 'GET', 'Observation/obs-moved/_history'))).toEqual(['Observation/obs-moved W/"2"']);
    expect((await as('patientB', 'GET', 'Observation/obs-gone/_history/1')).status).toBe(403);
  });

  it('the history or a version of what never existed is a 404', async () => {
    for (const who of ['a', 'operator'] as const) {
      expect((await as(who, 'GET', 'Observation/never/_history')).status).toBe(404);
      expect((await as(who, 'GET', 'Observation/never/_history/1')).status).toBe(404);
      expect((await as(who, 'GET', 'Observation/obs-moved/_history/3')).status).toBe(404);
      expect((await as(who, 'GET', 'AuditEvent/0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b/_history')).status).toBe(404);
    }
  });
});
