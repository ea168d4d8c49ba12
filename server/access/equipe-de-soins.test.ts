import { beforeAll, describe, expect, it } from 'vitest';
import { DATABASES, useServer } from '../../tests/harness.js';
import {
  APP_REDIRECT,
  authorizeByPassword,
  call,
  operatorToken,
  OPERATOR,
  postForm,
  registerApp,
  enrolPractitioner,
  practitionerRole,
  userToken,
  backendToken,
  opposition,
} from '../../tests/smart.js';

/**
 * The équipe-de-soins rules through real tokens: actors × interactions. The pôle: an MSP holding
 * its patients' records, a cabinet, a pharmacy; four patients:
 * - P1: team managed by the MSP, `member` active, `former` left last year;
 * - P2: team managed by the cabinet, `other` member;
 * - P3: team managed by the MSP, `member` and `other`, a consent denying `other` (nested deny);
 * - P4: team managed by the MSP, `member` médecin traitant and `other`, global opposition.
 * Each patient has one Observation (code x) and one Encounter.
 */
const ORGS = ['msp', 'cabinet', 'pharmacie'];
const ACTORS = { member: 'cabinet', former: 'cabinet', other: 'pharmacie', coordinator: 'msp' } as const;
type Actor = keyof typeof ACTORS | 'system';
const P = ['p1', 'p2', 'p3', 'p4'];
/** Whom each actor may see. */
const SEES: Record<Actor, string[]> = {
  member: ['p1', 'p3', 'p4'],
  former: [],
  other: ['p2'],
  coordinator: ['p1', 'p3'],
  system: ['p1', 'p3', 'p4'], // acts for the cabinet: its roles' patients
};
const PASSWORD = 'a long test passphrase';
const APP = 'coordination-app';
const SYSTEM = { id: 'lgc-cabinet', secret: 'lgc-cabinet-secret-for-tests-only' };
const CODE = 'http://loinc.org|x-eds';

const team = (patient: string, org: string, members: [string, Record<string, unknown>?][]) => ({
  resourceType: 'CareTeam',
  id: `cds-${patient}`,
  status: 'active',
  subject: { reference: `Patient/${patient}` },
  managingOrganization: [{ reference: `Organization/${org}` }],
  participant: members.map(([role, extra]) => ({ member: { reference: `PractitionerRole/role-${role}` }, period: { start: '2020-01-01' }, ...extra })),
});
const PCP = {
  role: [{ coding: [{ system: 'https://mos.esante.gouv.fr/NOS/TRE_R259-HL7ParticipationFunction/FHIR/TRE-R259-HL7ParticipationFunction', code: 'PCP' }] }],
};

describe.each(DATABASES)('équipe de soins on %s', (kind) => {
  const t = useServer(kind, {
    auth: true,
    ...OPERATOR,
    accessRules: { recordHolders: ['msp'], clientOrganizations: { [SYSTEM.id]: 'cabinet' }, breakGlassMinutes: 60 },
    trustProxy: 'loopback',
  });
  const origin = () => t.server.url;
  const fhir = (path: string) => `${origin()}/fhir/${path}`;
  const tokens = {} as Record<Actor | 'operator', string>;
  const as = (who: Actor | 'operator', method: string, path: string, body?: unknown) => call(method, fhir(path), tokens[who], body);

  beforeAll(async () => {
    tokens.operator = await operatorToken(origin());
    const put = async (r: Record<string, any>) => {
      const res = await as('operator', 'PUT', `${r.resourceType}/${r.id}`, r);
      if (res.status >= 300) throw new Error(`${r.resourceType}/${r.id}: ${JSON.stringify(res.body)}`);
    };
    for (const org of ORGS) await put({ resourceType: 'Organization', id: org, name: org });
    for (const [actor, org] of Object.entries(ACTORS)) {
      await enrolPractitioner(origin(), tokens.operator, actor, org, PASSWORD);
    }
    for (const id of P) {
      await put({ resourceType: 'Patient', id, name: [{ family: `Famille-${id}` }] });
      await put({
        resourceType: 'Observation',
        id: `obs-${id}`,
        status: 'final',
        code: { coding: [{ system: 'http://loinc.org', code: 'x-eds' }] },
        subject: { reference: `Patient/${id}` },
      });
      await put({ resourceType: 'Encounter', id: `enc-${id}`, status: 'finished', class: { code: 'AMB' }, subject: { reference: `Patient/${id}` } });
    }
    // About P1, performed by P2: nobody sees both, so nobody sees it.
    await put({
      resourceType: 'Observation',
      id: 'obs-shared',
      status: 'final',
      code: { text: 'shared' },
      subject: { reference: 'Patient/p1' },
      performer: [{ reference: 'Patient/p2' }],
    });
    await put(team('p1', 'msp', [['member'], ['former', { period: { start: '2020-01-01', end: '2025-01-31' } }]]));
    await put(team('p2', 'cabinet', [['other']]));
    await put(team('p3', 'msp', [['member'], ['other']]));
    await put(team('p4', 'msp', [['member', PCP], ['other']]));
    const consent = (id: string, provision: Record<string, unknown>) => opposition(id, id.split('-')[1], provision);
    await put(
      consent('consent-p3', {
        type: 'permit',
        provision: [{ type: 'deny', actor: [{ role: { text: 'recipient' }, reference: { reference: 'PractitionerRole/role-other' } }] }],
      }),
    );
    await put(consent('consent-p4', { type: 'deny' }));

    await registerApp(origin(), {
      client_id: APP,
      token_endpoint_auth_method: 'none',
      redirect_uris: [APP_REDIRECT],
      grant_types: ['authorization_code'],
      scope: 'openid fhirUser user/*.cruds',
    });
    for (const actor of Object.keys(ACTORS) as (keyof typeof ACTORS)[]) {
      tokens[actor] = await userToken(origin(), {
        clientId: APP,
        scope: 'openid fhirUser user/*.cruds',
        username: actor,
        password: PASSWORD,
        role: `role-${actor}`,
      });
    }
    tokens.system = await backendToken(origin(), SYSTEM.id);
  });

  const ids = (reply: any, mode = 'match') =>
    (reply.body.entry ?? [])
      .filter((e: any) => e.search?.mode === mode)
      .map((e: any) => e.resource.id)
      .sort();

  describe.each(Object.keys(SEES) as Actor[])('%s', (actor) => {
    const sees = SEES[actor];
    it('reads, vreads and gets the history of exactly their patients’ data, and the directory', async () => {
      for (const id of P) {
        const allowed = sees.includes(id) ? 200 : 403;
        expect((await as(actor, 'GET', `Patient/${id}`)).status, `Patient/${id}`).toBe(allowed);
        expect((await as(actor, 'GET', `Observation/obs-${id}`)).status).toBe(allowed);
        expect((await as(actor, 'GET', `Observation/obs-${id}/_history/1`)).status).toBe(allowed);
        expect((await as(actor, 'GET', `Encounter/enc-${id}/_history`)).status).toBe(allowed);
      }
      expect((await as(actor, 'GET', 'Organization/msp')).status).toBe(200);
      const directory = await as(actor, 'GET', 'PractitionerRole?_include=PractitionerRole:practitioner&_count=100');
      expect(directory.status).toBe(200);
      expect(ids(directory).length).toBe(Object.keys(ACTORS).length);
      expect((await as(actor, 'GET', 'Observation/obs-nobody')).status).toBe(404);
      const history = await as(actor, 'GET', 'Observation/_history?_count=100');
      expect(history.body.entry.map((e: any) => e.resource.id).sort()).toEqual(sees.map((id) => `obs-${id}`));
    });

    it('searches, counts, chains, _has and includes without a leak', async () => {
      const observations = sees.map((id) => `obs-${id}`);
      const count = await as(actor, 'GET', `Observation?code=${CODE}&_summary=count`);
      expect(count.body.total).toBe(sees.length);
      const accurate = await as(actor, 'GET', `Observation?_total=accurate&_count=1`);
      expect(accurate.body.total).toBe(sees.length);
      // Not asked for, a broad search's total is given only when its first page holds every match.
      const paged = await as(actor, 'GET', `Observation?_count=1`);
      expect(paged.body.total).toBe(sees.length > 1 ? undefined : sees.length);
      const withPatients = await as(actor, 'GET', `Observation?code=${CODE}&_include=Observation:subject`);
      expect(ids(withPatients)).toEqual(observations);
      expect(ids(withPatients, 'include')).toEqual(sees);
      // Organizations are open: their reverse include of encounters is not.
      const chained = await as(actor, 'GET', `Observation?subject:Patient.name=Famille&_total=accurate`);
      expect(chained.body.total).toBe(sees.length);
      const has = await as(actor, 'GET', `Patient?_has:Observation:subject:code=${CODE}`);
      expect(ids(has)).toEqual(sees);
      const rev = await as(actor, 'GET', `Patient?_revinclude=Encounter:subject&_revinclude=Observation:subject`);
      expect(ids(rev)).toEqual(sees);
      expect(ids(rev, 'include').length).toBe(2 * sees.length);
      const system = await as(actor, 'GET', `?_type=Patient,Observation,Organization&_total=accurate&_count=100`);
      expect(system.body.total).toBe(2 * sees.length + ORGS.length);
      const compartment = await as(actor, 'GET', `Patient/p1/Encounter`);
      expect(ids(compartment)).toEqual(sees.includes('p1') ? ['enc-p1'] : []);
      // A search for one patient's data: that patient checked once, the others each row names too.
      for (const id of P) {
        expect(ids(await as(actor, 'GET', `Observation?subject=Patient/${id}`))).toEqual(sees.includes(id) ? [`obs-${id}`] : []);
        expect(ids(await as(actor, 'GET', `Patient/${id}/Observation`))).toEqual(sees.includes(id) ? [`obs-${id}`] : []);
      }
    });

    it('transaction and batch entries, writes and operations follow the same rules', async () => {
      const flag = (patient: string) => ({ resourceType: 'Flag', status: 'active', code: { text: 'note' }, subject: { reference: `Patient/${patient}` } });
      const batch = await as(actor, 'POST', '', {
        resourceType: 'Bundle',
        type: 'batch',
        entry: P.flatMap((id) => [{ request: { method: 'GET', url: `Patient/${id}` } }, { request: { method: 'POST', url: 'Flag' }, resource: flag(id) }]),
      });
      expect(batch.body.entry.map((e: any) => e.response.status.slice(0, 3))).toEqual(P.flatMap((id) => (sees.includes(id) ? ['200', '201'] : ['403', '403'])));
      for (const id of P) {
        const tx = await as(actor, 'POST', '', {
          resourceType: 'Bundle',
          type: 'transaction',
          entry: [{ request: { method: 'POST', url: 'Flag' }, resource: flag(id) }, { request: { method: 'GET', url: `Patient/${id}` } }],
        });
        expect(tx.status).toBe(sees.includes(id) ? 200 : 403);
        // Conditional writes match only what the caller sees: here, a new resource or nothing.
        const conditional = await as(actor, 'PUT', `Encounter?subject=Patient/${id}&status=finished`, {
          resourceType: 'Encounter',
          status: 'finished',
          class: { code: 'AMB' },
          subject: { reference: `Patient/${id}` },
        });
        expect(conditional.status).toBe(sees.includes(id) ? 200 : 403);
      }
      expect((await as(actor, 'POST', 'AuditEvent', { resourceType: 'AuditEvent' })).status).toBe(405);
      expect((await as(actor, 'POST', '$reindex')).status).toBe(403);
      // Reindexing one type locks and rewrites all its rows: not for users, nor clients of one organisation.
      for (const type of ['Patient', 'Organization']) expect((await as(actor, 'POST', `${type}/$reindex`)).status).toBe(403);
    });
  });

  it('$reindex, of every type or one, is for the whole pôle', async () => {
    expect((await as('operator', 'POST', 'Organization/$reindex')).status).toBe(200);
  });

  it('an outsider cannot join a team on their own, nor move a team to another patient', async () => {
    const own = team('p2', 'cabinet', [['former']]);
    expect((await as('former', 'POST', 'CareTeam', { ...own, id: undefined })).status).toBe(403);
    expect((await as('former', 'PUT', 'CareTeam/cds-p2', own)).status).toBe(403);
    expect((await as('member', 'PATCH', 'CareTeam/cds-p1', [{ op: 'replace', path: '/subject/reference', value: 'Patient/p2' }])).status).toBe(403);
    expect((await as('former', 'GET', 'Patient/p2')).status).toBe(403);
  });

  it('the coordinator records an opposition, which wins at once, and withdraws it', async () => {
    const opposed = opposition('consent-p1', 'p1');
    expect((await as('coordinator', 'PUT', 'Consent/consent-p1', opposed)).status).toBe(201);
    expect((await as('coordinator', 'GET', 'Observation/obs-p1')).status).toBe(403);
    expect((await as('member', 'GET', 'Observation/obs-p1')).status).toBe(403);
    // The consent itself stays with the team, so that it can be withdrawn.
    expect((await as('coordinator', 'GET', 'Consent/consent-p1')).status).toBe(200);
    expect((await as('coordinator', 'PUT', 'Consent/consent-p1', { ...opposed, status: 'inactive' })).status).toBe(200);
    expect((await as('coordinator', 'GET', 'Observation/obs-p1')).status).toBe(200);
  });

  it('a role moved to another structure has that structure’s reach from the very next request', async () => {
    const seen = async () => ids(await as('coordinator', 'GET', 'Patient?_id=p1,p2,p3&_count=10')).sort();
    expect(await seen()).toEqual(['p1', 'p3']);
    try {
      expect((await as('operator', 'PUT', 'PractitionerRole/role-coordinator', practitionerRole('coordinator', 'cabinet'))).status).toBe(200);
      expect(await seen()).toEqual([]);
    } finally {
      expect((await as('operator', 'PUT', 'PractitionerRole/role-coordinator', practitionerRole('coordinator', 'msp'))).status).toBe(200);
    }
    expect(await seen()).toEqual(['p1', 'p3']);
  });

  it('break-glass: a reason, then a time-limited access, traced and listed for review', async () => {
    expect((await as('other', 'POST', 'Patient/p3/$break-glass', { resourceType: 'Parameters' })).status).toBe(400);
    expect(
      (await as('system', 'POST', 'Patient/p3/$break-glass', { resourceType: 'Parameters', parameter: [{ name: 'reason', valueString: 'x' }] })).status,
    ).toBe(403);
    expect((await as('other', 'GET', 'Observation/obs-p3')).status).toBe(403);
    const glass = await as('other', 'POST', 'Patient/p3/$break-glass', {
      resourceType: 'Parameters',
      parameter: [{ name: 'reason', valueString: 'Chute à domicile, appel du SAMU' }],
    });
    expect(glass.status).toBe(200);
    const until = Date.parse(glass.body.parameter[0].valueInstant);
    expect(until - Date.now()).toBeGreaterThan(59 * 60_000);
    expect(until - Date.now()).toBeLessThanOrEqual(60 * 60_000);
    expect((await as('other', 'GET', 'Observation/obs-p3')).status).toBe(200);
    expect((await as('other', 'GET', 'Observation/obs-p1')).status).toBe(403);
    const review = await as('operator', 'GET', 'AuditEvent?subtype=https://fhir.maillage.fr/CodeSystem/audit|break-glass');
    expect(
      review.body.entry.map((e: any) => [e.resource.agent[0].who.reference, e.resource.entity[0].what.reference, e.resource.purposeOfEvent[0].text]),
    ).toEqual([['PractitionerRole/role-other', 'Patient/p3', 'Chute à domicile, appel du SAMU']]);
    const under = await as('operator', 'GET', 'AuditEvent?agent=PractitionerRole/role-other&patient=Patient/p3&outcome=0&_count=100');
    expect(under.body.entry.some((e: any) => e.resource.purposeOfEvent?.[0].coding[0].code === 'BTG' && e.resource.subtype[0].code === 'read')).toBe(true);
  });

  it('a broad search finds its page past hundreds of rows outside the équipe, and pages through them', async () => {
    // 230 Observations of P2 (seen by `other` only) come first, then 3 of P1 (seen by `member`).
    const bulk = (id: string, patient: string) => ({
      resourceType: 'Observation',
      id,
      status: 'final',
      code: { text: 'bulk' },
      subject: { reference: `Patient/${patient}` },
    });
    const entries = [...Array.from({ length: 230 }, (_, i) => bulk(`bulk-p2-${i}`, 'p2')), ...[0, 1, 2].map((i) => bulk(`bulk-p1-${i}`, 'p1'))];
    const written = await as('operator', 'POST', '', {
      resourceType: 'Bundle',
      type: 'transaction',
      entry: entries.map((resource) => ({ resource, request: { method: 'PUT', url: `Observation/${resource.id}` } })),
    });
    expect(written.status).toBe(200);
    const member = await as('member', 'GET', 'Observation?code:text=bulk&_count=2');
    expect(ids(member)).toEqual(['bulk-p1-0', 'bulk-p1-1']);
    const next = member.body.link.find((l: any) => l.relation === 'next').url;
    const rest = await call('GET', next, tokens.member);
    expect(ids(rest)).toEqual(['bulk-p1-2']);
    expect(rest.body.link.find((l: any) => l.relation === 'next')).toBeUndefined();
    expect((await as('member', 'GET', 'Observation?code:text=bulk&_total=accurate&_count=1')).body.total).toBe(3);
    const other = await as('other', 'GET', 'Observation?code:text=bulk&_count=20&_total=accurate');
    expect(ids(other).every((id: string) => id.startsWith('bulk-p2-'))).toBe(true);
    expect(other.body.total).toBe(230);
  });

  it('audit: N mixed requests give exactly the expected AuditEvents, which cannot be changed', async () => {
    const trail = async (query: string) =>
      (await as('operator', 'GET', `AuditEvent?agent=PractitionerRole/role-member&_total=accurate&_count=0&${query}`)).body.total;
    const [before, failedBefore] = [await trail(''), await trail('outcome=4')];
    const flag = (patient: string) => ({ resourceType: 'Flag', status: 'active', code: { text: 'audit' }, subject: { reference: `Patient/${patient}` } });
    const statuses = [
      (await as('member', 'GET', 'Patient/p1')).status,
      (await as('member', 'GET', 'Patient/p2')).status,
      (await as('member', 'GET', `Observation?code=${CODE}`)).status,
      (await as('member', 'GET', 'Organization/msp')).status, // the directory: not traced
      (await as('member', 'PUT', 'Flag/audit-flag', { ...flag('p1'), id: 'audit-flag' })).status,
      (
        await as('member', 'POST', '', {
          resourceType: 'Bundle',
          type: 'transaction',
          entry: [{ request: { method: 'POST', url: 'Flag' }, resource: flag('p1') }, { request: { method: 'GET', url: 'Patient/p3' } }],
        })
      ).status,
      (
        await as('member', 'POST', '', {
          resourceType: 'Bundle',
          type: 'batch',
          entry: [{ request: { method: 'GET', url: 'Patient/p2' } }, { request: { method: 'GET', url: 'Organization/msp' } }],
        })
      ).status,
      (await as('member', 'POST', 'AuditEvent', { resourceType: 'AuditEvent' })).status,
    ];
    expect(statuses).toEqual([200, 403, 200, 200, 201, 200, 200, 405]);
    expect((await trail('')) - before).toBe(8);
    expect((await trail('outcome=4')) - failedBefore).toBe(3);
    const denied = await as('operator', 'GET', 'AuditEvent?patient=Patient/p2&agent=PractitionerRole/role-member&outcome=4&_count=1');
    const event = denied.body.entry[0].resource;
    expect(event).toMatchObject({
      type: { code: 'rest' },
      subtype: [{ code: 'read' }],
      action: 'R',
      outcome: '4',
      agent: [
        { who: { reference: 'PractitionerRole/role-member' }, altId: 'Practitioner/pr-member', requestor: true },
        { who: { identifier: { value: APP } } },
      ],
      entity: [{ what: { reference: 'Patient/p2' } }],
    });
    const provenance = await as('operator', 'GET', 'Provenance?target=Flag/audit-flag');
    expect(provenance.body.entry.map((e: any) => e.resource.agent.map((a: any) => a.who.reference ?? a.who.identifier.value))).toEqual([
      ['PractitionerRole/role-member', APP],
    ]);
    expect((await as('operator', 'PUT', `AuditEvent/${event.id}`, event)).status).toBe(405);
    expect((await as('operator', 'DELETE', `AuditEvent/${event.id}`)).status).toBe(405);
  });

  it('logins and tokens are traced, accepted or refused, with the user and the client', async () => {
    const since = new Date().toISOString();
    const login = { clientId: APP, scope: 'openid fhirUser user/*.cruds', username: 'member', role: 'role-member' };
    await expect(authorizeByPassword(origin(), { ...login, password: 'not the password' })).rejects.toThrow('login: 401');
    const { callback, verifier } = await authorizeByPassword(origin(), { ...login, password: PASSWORD });
    const code = callback.searchParams.get('code') as string;
    expect(
      (
        await postForm(`${origin()}/auth/token`, {
          grant_type: 'authorization_code',
          code,
          code_verifier: verifier,
          redirect_uri: APP_REDIRECT,
          client_id: APP,
        })
      ).status,
    ).toBe(200);
    const wrongSecret = `Basic ${Buffer.from(`${SYSTEM.id}:wrong`).toString('base64')}`;
    expect((await postForm(`${origin()}/auth/token`, { grant_type: 'client_credentials' }, { authorization: wrongSecret })).status).toBe(401);
    // Malformed credentials are refused, and traced under the id they claim.
    const malformed = `Basic ${Buffer.from('%zz:x').toString('base64')}`;
    expect((await postForm(`${origin()}/auth/token`, { grant_type: 'client_credentials' }, { authorization: malformed })).status).toBe(401);
    const trail = await as(
      'operator',
      'GET',
      `AuditEvent?type=http://dicom.nema.org/resources/ontology/DCM|110114&date=ge${encodeURIComponent(since)}&_sort=date`,
    );
    const seen = trail.body.entry.map((e: any) => {
      const r = e.resource;
      return [
        r.subtype[0].code,
        r.entity[0].detail[0].valueString,
        r.outcome,
        r.agent.length === 2 ? (r.agent[0].who.reference ?? r.agent[0].who.identifier.value) : null,
        r.agent.at(-1).who.identifier.value,
      ];
    });
    expect(seen).toEqual([
      ['110122', 'password', '4', 'member', APP],
      ['110122', 'password', '0', 'Practitioner/pr-member', APP],
      ['110122', 'authorization_code', '0', 'PractitionerRole/role-member', APP],
      ['110122', 'client_credentials', '4', null, SYSTEM.id],
      ['110122', 'client_credentials', '4', null, '%zz'],
    ]);
    expect(trail.body.entry[0].resource.agent[0].who.identifier.system).toBe('https://fhir.maillage.fr/username');
    expect(trail.body.entry[3].resource.outcomeDesc).toMatch(/secret/);
    // Searched by who logged in.
    const mine = await as('operator', 'GET', `AuditEvent?agent=Practitioner/pr-member&date=ge${encodeURIComponent(since)}`);
    expect(mine.body.entry.map((e: any) => e.resource.entity[0].detail[0].valueString)).toEqual(['password']);
  });

  it('the audit trail: read, history, search by its parameters, pages and includes, each event for those who see all its patients', async () => {
    const since = new Date().toISOString();
    expect((await as('member', 'GET', 'Patient/p1')).status).toBe(200);
    expect((await as('member', 'GET', 'Observation/obs-p1')).status).toBe(200);
    expect((await as('member', 'GET', 'Patient/p2')).status).toBe(403);
    const entries = (reply: any) => (reply.body.entry ?? []).filter((e: any) => e.search?.mode === 'match').map((e: any) => e.resource);
    const mine = `agent=PractitionerRole/role-member&date=ge${encodeURIComponent(since)}`;

    // Newest first, a page at a time, and back.
    const first = await as('operator', 'GET', `AuditEvent?${mine}&patient=p1&_sort=-date&_count=1&_total=accurate`);
    expect(first.status).toBe(200);
    const [newest] = entries(first);
    expect(newest.entity.map((e: any) => e.what?.reference)).toEqual(['Patient/p1', 'Observation/obs-p1/_history/1']);
    // The client application, with the address it called from: behind a proxy it trusts, the one forwarded.
    expect(newest.agent[1]).toMatchObject({ who: { identifier: { value: APP } }, network: { address: expect.stringMatching(/127\.0\.0\.1|::1/), type: '2' } });
    const proxied = await fetch(fhir('Patient/p3'), { headers: { authorization: `Bearer ${tokens.member}`, 'x-forwarded-for': '203.0.113.7' } });
    expect(proxied.status).toBe(200);
    const [forwarded] = entries(await as('operator', 'GET', `AuditEvent?${mine}&patient=p3`));
    expect(forwarded.agent[1].network.address).toBe('203.0.113.7');
    const second = await call('GET', first.body.link.find((l: any) => l.relation === 'next').url, tokens.operator);
    const [older] = entries(second);
    expect(older.entity[0].what.reference).toBe('Patient/p1');
    expect(Date.parse(older.recorded)).toBeLessThanOrEqual(Date.parse(newest.recorded));
    expect(second.body.link.find((l: any) => l.relation === 'next')).toBeUndefined();
    expect([first.body.total, second.body.total]).toEqual([2, 2]);
    const back = await call('GET', second.body.link.find((l: any) => l.relation === 'previous').url, tokens.operator);
    expect(entries(back).map((e: any) => e.id)).toEqual([newest.id]);
    expect(entries(await as('operator', 'GET', `AuditEvent?${mine}&patient=p1&_sort=date`)).map((e: any) => e.id)).toEqual([older.id, newest.id]);

    // Read, vread and history: one version, as searched.
    const read = await as('operator', 'GET', `AuditEvent/${newest.id}`);
    expect(read.body).toEqual(newest);
    expect(read.headers.get('etag')).toBe('W/"1"');
    expect((await as('operator', 'GET', `AuditEvent/${newest.id}/_history/1`)).body).toEqual(newest);
    expect((await as('operator', 'GET', `AuditEvent/${newest.id}/_history/2`)).status).toBe(404);
    expect((await as('operator', 'GET', `AuditEvent/${newest.id}/_history`)).body.entry.map((e: any) => e.resource)).toEqual([newest]);
    expect((await as('operator', 'GET', 'AuditEvent/not-an-event')).status).toBe(404);
    expect((await as('operator', 'GET', 'AuditEvent/00000000-0000-7000-8000-000000000000')).status).toBe(404);
    const typeHistory = await as('operator', 'GET', 'AuditEvent/_history?_count=3');
    expect(typeHistory.body.entry.map((e: any) => e.resource.resourceType)).toEqual(['AuditEvent', 'AuditEvent', 'AuditEvent']);
    expect(((await as('operator', 'GET', '_history?_count=100')).body.entry ?? []).some((e: any) => e.resource?.resourceType === 'AuditEvent')).toBe(false);

    // Every parameter of the trail.
    const found = async (query: string) =>
      entries(await as('operator', 'GET', `AuditEvent?${mine}&_count=100&${query}`))
        .map((e: any) => e.id)
        .sort();
    expect(await found(`_id=${newest.id}`)).toEqual([newest.id]);
    expect(await found('entity=Observation/obs-p1')).toEqual([newest.id]);
    expect(await found(`entity=Patient/p1&_lastUpdated=le${encodeURIComponent(older.recorded)}`)).toEqual([older.id]);
    expect((await found('patient=p2&outcome=4&subtype=http://hl7.org/fhir/restful-interaction|read&action=R&type=rest')).length).toBe(1);
    expect(await found('patient=p2&outcome:not=4')).toEqual([]);
    expect((await found(`agent:identifier=https://fhir.maillage.fr/oauth-client|${APP}`)).length).toBe(4);
    expect(await found('agent:identifier=https://fhir.maillage.fr/oauth-client|another-app')).toEqual([]);
    expect(await found('subtype=https://fhir.maillage.fr/CodeSystem/audit|break-glass')).toEqual([]);
    const ignored = await as('operator', 'GET', `AuditEvent?${mine}&site=x&_sort=action&_revinclude=Provenance:target`);
    expect(ignored.body.entry.find((e: any) => e.search?.mode === 'outcome').resource.issue[0].diagnostics).toMatch(/site.*_sort.*_revinclude/s);
    expect(ignored.body.link[0].url).not.toMatch(/site|_sort|_revinclude/);
    const revinclude = await as('operator', 'GET', 'Patient?_id=p1&_revinclude=AuditEvent:patient');
    expect(revinclude.body.entry.find((e: any) => e.search?.mode === 'outcome').resource.issue[0].diagnostics).toMatch(/_revinclude/);
    expect((await as('operator', 'GET', '?_type=AuditEvent,Patient')).status).toBe(400);

    // Includes: the agents' roles and the patients, as the coordination app asks.
    const withAgents = await as('operator', 'GET', `AuditEvent?${mine}&patient=p1&_include=AuditEvent:agent&_include=AuditEvent:patient`);
    expect(ids(withAgents, 'include')).toEqual(['p1', 'role-member']);

    // The rules: an event is seen by those who see every patient it names.
    const denied = entries(await as('operator', 'GET', `AuditEvent?${mine}&patient=p2`))[0];
    expect((await as('member', 'GET', `AuditEvent/${denied.id}`)).status).toBe(403);
    expect((await as('member', 'GET', `AuditEvent/${denied.id}/_history/1`)).status).toBe(403);
    expect((await as('member', 'GET', `AuditEvent/${denied.id}/_history`)).status).toBe(403);
    expect((await as('other', 'GET', `AuditEvent/${denied.id}`)).status).toBe(200);
    expect((await as('other', 'GET', `AuditEvent/${denied.id}/_history/1`)).status).toBe(200);
    expect(entries(await as('member', 'GET', `AuditEvent?${mine}&patient=p2`))).toEqual([]);
    // The member's own events are theirs to see, but the one about P2; another sees only that one.
    // (P3 too, when the break-glass test ran before: `other` is then under break-glass for P3.)
    const seenByOther = entries(await as('other', 'GET', `AuditEvent?${mine}&_count=100`));
    expect(seenByOther.map((e: any) => e.id)).toContain(denied.id);
    expect(seenByOther.map((e: any) => e.entity?.[0].what.reference).filter((ref: string) => ref !== 'Patient/p2' && ref !== 'Patient/p3')).toEqual([]);
    const all = (await as('operator', 'GET', `AuditEvent?${mine}&_total=accurate&_count=0`)).body.total;
    expect((await as('member', 'GET', `AuditEvent?${mine}&_total=accurate&_count=0`)).body.total).toBe(all - 1);
    const compartment = await as('member', 'GET', `Patient/p1/AuditEvent?${mine}`);
    expect(
      entries(compartment)
        .map((e: any) => e.id)
        .sort(),
    ).toEqual([older.id, newest.id].sort());
    expect((await as('member', 'GET', `Patient/p2/AuditEvent?${mine}`)).body.entry ?? []).toEqual([]);
    expect((await as('operator', 'GET', 'Practitioner/pr-member/AuditEvent')).status).toBe(400);
  });
});
