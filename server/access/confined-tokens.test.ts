import { beforeAll, describe, expect, it } from 'vitest';
import { DATABASES, useServer } from '../../tests/harness.js';
import { APP_REDIRECT, call, operatorToken, OPERATOR, registerApp, enrolPractitioner, userLogin, backendToken } from '../../tests/smart.js';

/**
 * What a token confined to a patient, to a filter, or to reading reaches, through the real
 * password → consent → code + PKCE flow (issue #21): break-glass, instance operations, EHR
 * launches and the audit trail. The pôle: a pharmacy and a cabinet; `pharma` (the pharmacist)
 * cares for P1 and P4, `doc` for all three; nobody from the pharmacy for P2.
 */
const PASSWORD = 'a long test passphrase';
const APP = 'confined-app';
const SYSTEM = { id: 'lgc-pharmacie', secret: 'lgc-pharmacie-secret-for-tests-only' };
const X = 'http://loinc.org|x-conf';
const FILTERED = `user/Observation.cruds?code=${X}`;
const REASON = { resourceType: 'Parameters', parameter: [{ name: 'reason', valueString: 'Appel du SAMU' }] };

describe.each(DATABASES)('tokens confined to a patient, a filter or reading, on %s', (kind) => {
  const t = useServer(kind, {
    auth: true,
    ...OPERATOR,
    accessRules: { recordHolders: [], clientOrganizations: { [SYSTEM.id]: 'pharmacie' }, breakGlassMinutes: 60 },
  });
  const origin = () => t.server.url;
  const fhir = (path: string) => `${origin()}/fhir/${path}`;
  const tokens: Record<string, string> = {};
  const as = (who: string, method: string, path: string, body?: unknown) => call(method, fhir(path), tokens[who], body);

  beforeAll(async () => {
    tokens.operator = await operatorToken(origin());
    const put = async (r: Record<string, any>) => {
      const res = await as('operator', 'PUT', `${r.resourceType}/${r.id}`, r);
      if (res.status >= 300) throw new Error(`${r.resourceType}/${r.id}: ${JSON.stringify(res.body)}`);
    };
    for (const org of ['pharmacie', 'cabinet']) await put({ resourceType: 'Organization', id: org, name: org });
    for (const [who, org] of [
      ['pharma', 'pharmacie'],
      ['doc', 'cabinet'],
    ]) {
      await enrolPractitioner(origin(), tokens.operator, who, org, PASSWORD);
    }
    for (const id of ['p1', 'p2', 'p3', 'p4']) {
      await put({ resourceType: 'Patient', id, name: [{ family: `Famille-${id}` }] });
      await put({
        resourceType: 'Observation',
        id: `obs-${id}`,
        status: 'final',
        code: { coding: [{ system: 'http://loinc.org', code: 'x-conf' }] },
        subject: { reference: `Patient/${id}` },
      });
      await put({
        resourceType: 'Observation',
        id: `other-${id}`,
        status: 'final',
        code: { coding: [{ system: 'http://loinc.org', code: 'y-conf' }] },
        subject: { reference: `Patient/${id}` },
      });
      await put({ resourceType: 'Encounter', id: `enc-${id}`, status: 'finished', class: { code: 'AMB' }, subject: { reference: `Patient/${id}` } });
      const members = id === 'p2' || id === 'p3' ? ['doc'] : ['doc', 'pharma'];
      await put({
        resourceType: 'CareTeam',
        id: `cds-${id}`,
        status: 'active',
        subject: { reference: `Patient/${id}` },
        participant: members.map((m) => ({ member: { reference: `PractitionerRole/role-${m}` }, period: { start: '2020-01-01' } })),
      });
    }
    const scope = `openid fhirUser launch/patient patient/*.rs patient/Patient.r patient/AuditEvent.rs user/*.cruds user/*.rs ${FILTERED}`;
    await registerApp(origin(), {
      client_id: APP,
      token_endpoint_auth_method: 'none',
      redirect_uris: [APP_REDIRECT],
      grant_types: ['authorization_code'],
      scope,
    });
    const login = async (username: string, scope: string, patient?: string) => {
      const body = await userLogin(origin(), { clientId: APP, scope, username, password: PASSWORD, role: `role-${username}`, patient });
      if (patient) expect(body.patient).toBe(patient);
      return body.access_token as string;
    };
    tokens.patientRead = await login('pharma', 'openid fhirUser launch/patient patient/Patient.r', 'p1');
    tokens.patient = await login('pharma', 'openid fhirUser launch/patient patient/*.rs patient/AuditEvent.rs', 'p1');
    tokens.reader = await login('pharma', 'openid fhirUser user/*.rs');
    tokens.filtered = await login('pharma', `openid fhirUser ${FILTERED}`);
    tokens.user = await login('pharma', 'openid fhirUser user/*.cruds');
    tokens.doc = await login('doc', 'openid fhirUser user/*.cruds');
    tokens.system = await backendToken(origin(), SYSTEM.id);
  });

  const refused = (reply: { status: number; body: any }) => {
    expect(reply.status).toBe(403);
    expect(reply.body.resourceType).toBe('OperationOutcome');
  };

  it('break-glass needs a user token that writes on the user’s own behalf, and a refused one opens nothing', async () => {
    for (const who of ['patientRead', 'patient', 'reader', 'filtered', 'system']) {
      refused(await as(who, 'POST', 'Patient/p2/$break-glass', REASON));
      // Nothing was opened to the user's other tokens.
      refused(await as('user', 'GET', 'Patient/p2'));
    }
    const glass = await as('user', 'POST', 'Patient/p2/$break-glass', REASON);
    expect(glass.status).toBe(200);
    expect((await as('user', 'GET', 'Patient/p2')).status).toBe(200);
    // Opened to the role, under the token's own scopes: a token confined to P1 still reaches P1 only.
    refused(await as('patient', 'GET', 'Patient/p2'));
  });

  it('an instance operation is on a resource the token reaches: its patient, its filter, the équipe', async () => {
    expect((await as('patient', 'GET', 'Observation/obs-p1/$validate')).status).toBe(200);
    expect((await as('patient', 'GET', 'Patient/p1/$validate')).status).toBe(200);
    // P4 is in the pharmacist's équipe, but the token is confined to P1.
    refused(await as('patient', 'GET', 'Observation/obs-p4/$validate'));
    refused(await as('patient', 'POST', 'Observation/obs-p4/$validate', { resourceType: 'Parameters', parameter: [{ name: 'mode', valueCode: 'delete' }] }));
    refused(await as('patient', 'GET', 'Patient/p4/$validate'));
    expect((await as('patient', 'GET', 'Observation/nothing-here/$validate')).status).toBe(404);
    // A filtered scope reaches what its filter matches.
    expect((await as('filtered', 'GET', 'Observation/obs-p4/$validate')).status).toBe(200);
    refused(await as('filtered', 'GET', 'Observation/other-p4/$validate'));
    // Outside the équipe de soins, whatever the scopes.
    refused(await as('user', 'GET', 'Observation/obs-p3/$validate'));
    expect((await as('doc', 'GET', 'Observation/obs-p3/$validate')).status).toBe(200);
  });

  it('an EHR launch names a patient and an encounter the caller may read', async () => {
    const launch = (body: unknown, who = 'user') => call('POST', `${origin()}/auth/launch`, tokens[who], body);
    expect((await launch({ patient: 'p1' })).status).toBe(201);
    expect((await launch({ patient: 'p1', encounter: 'Encounter/enc-p1' })).status).toBe(201);
    expect((await launch({ patient: 'p3' })).status).toBe(403);
    expect((await launch({ patient: 'p3' }, 'doc')).status).toBe(201);
    expect((await launch({ patient: 'p1', encounter: 'enc-p3' })).status).toBe(403);
    expect((await launch({ patient: 'p1', encounter: 'enc-p4' })).status).toBe(400);
    expect((await launch({ patient: 'nobody' })).status).toBe(400);
    // What fhirContext names on this server, too.
    expect((await launch({ patient: 'p1', fhirContext: [{ reference: 'Observation/obs-p1' }] })).status).toBe(201);
    expect((await launch({ patient: 'p1', fhirContext: [{ reference: 'Observation/obs-p3' }] })).status).toBe(403);
    expect((await launch({ patient: 'p1', fhirContext: [{ reference: 'https://elsewhere.example/fhir/Observation/x' }] })).status).toBe(201);
    // Practice software acting for the pharmacy: its patients only.
    expect((await launch({ patient: 'p4' }, 'system')).status).toBe(201);
    expect((await launch({ patient: 'p3' }, 'system')).status).toBe(403);
    // A token confined to a patient mints no launch at all.
    expect((await launch({ patient: 'p1' }, 'patient')).status).toBe(403);
  });

  it('a token confined to a patient sees only the events naming that patient alone', async () => {
    // One event naming P1 and P4, one naming P1, one naming P4.
    expect((await as('user', 'GET', 'Patient?_id=p1,p4')).body.entry).toHaveLength(2);
    expect((await as('user', 'GET', 'Patient/p1')).status).toBe(200);
    expect((await as('user', 'GET', 'Patient/p4')).status).toBe(200);
    const entries = (reply: any) => (reply.body.entry ?? []).filter((e: any) => e.search?.mode === 'match').map((e: any) => e.resource);
    const patientsOf = (event: any) => [...new Set((JSON.stringify(event).match(/Patient\/p\d/g) ?? []) as string[])].sort();
    const both = entries(await as('user', 'GET', 'AuditEvent?patient=p1&patient=p4&_count=100'));
    expect(both.length).toBeGreaterThan(0);
    const alone = entries(await as('user', 'GET', 'AuditEvent?patient=p1&_count=100')).filter((e: any) => patientsOf(e).join() === 'Patient/p1');
    expect(alone.length).toBeGreaterThan(0);

    for (const path of [
      'AuditEvent?_count=100',
      'Patient/p1/AuditEvent?_count=100',
      'AuditEvent?patient=p4&_count=100',
      'AuditEvent?_count=100&_include=AuditEvent:patient',
    ]) {
      const seen = await as('patient', 'GET', path);
      expect(seen.status, path).toBe(200);
      for (const event of entries(seen)) expect(patientsOf(event), path).toEqual(['Patient/p1']);
    }
    const seen = entries(await as('patient', 'GET', 'AuditEvent?_count=100')).map((e: any) => e.id);
    for (const event of alone) expect(seen).toContain(event.id);
    for (const event of both) {
      refused(await as('patient', 'GET', `AuditEvent/${event.id}`));
      refused(await as('patient', 'GET', `AuditEvent/${event.id}/_history`));
      refused(await as('patient', 'GET', `AuditEvent/${event.id}/_history/1`));
    }
    expect((await as('patient', 'GET', `AuditEvent/${alone[0].id}`)).status).toBe(200);
    expect((await as('patient', 'GET', `AuditEvent/${alone[0].id}/_history`)).status).toBe(200);
    refused(await as('patient', 'GET', 'Patient/p4/AuditEvent'));
  });
});
