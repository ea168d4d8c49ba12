import { beforeAll, describe, expect, it } from 'vitest';
import { DATABASES, useServer } from '../../tests/harness.js';
import { APP_REDIRECT, call, operatorToken, OPERATOR, postForm, registerApp, enrolPractitioner, userLogin } from '../../tests/smart.js';

/**
 * The write rules no reference spelling, no directory write and no Provenance gets around. The
 * pôle: an MSP holding its patients' records, a cabinet, a pharmacy; `member` (cabinet) cares for
 * `victim` in a team the MSP manages; `pharmacist` (pharmacy) cares for no one yet. System
 * clients: one acting for the pharmacy, one with `admin` acting for the cabinet.
 */
const ACTORS = { member: 'cabinet', pharmacist: 'pharmacie' } as const;
type Who = keyof typeof ACTORS | 'operator' | 'wholePole' | 'pharmacyClient' | 'adminClient';
const PASSWORD = 'a long test passphrase';
const APP = 'coordination-app';
const MRN = 'https://example.org/mrn';
const PHARMACY_CLIENT = 'lgc-pharmacie';
const ADMIN_CLIENT = 'annuaire-cabinet';

describe.each(DATABASES)('write rules on %s', (kind) => {
  const t = useServer(kind, {
    auth: true,
    ...OPERATOR,
    accessRules: { recordHolders: ['msp'], clientOrganizations: { [PHARMACY_CLIENT]: 'pharmacie', [ADMIN_CLIENT]: 'cabinet' }, breakGlassMinutes: 60 },
  });
  const origin = () => t.server.url;
  const base = () => `${origin()}/fhir`;
  const tokens = {} as Record<Who, string>;
  const as = (who: Who, method: string, path: string, body?: unknown) => call(method, `${base()}/${path}`, tokens[who], body);
  const put = async (r: Record<string, any>) => {
    const res = await as('operator', 'PUT', `${r.resourceType}/${r.id}`, r);
    if (res.status >= 300) throw new Error(`${r.resourceType}/${r.id}: ${JSON.stringify(res.body)}`);
  };
  const clientToken = async (id: string, secret: string, scope: string) =>
    (await postForm(`${origin()}/auth/token`, { grant_type: 'client_credentials', client_id: id, client_secret: secret, scope })).body.access_token as string;

  beforeAll(async () => {
    tokens.operator = await operatorToken(origin());
    tokens.wholePole = await operatorToken(origin(), 'system/*.cruds');
    for (const org of ['msp', 'cabinet', 'pharmacie']) await put({ resourceType: 'Organization', id: org, name: org });
    for (const [actor, org] of Object.entries(ACTORS)) {
      await enrolPractitioner(origin(), tokens.operator, actor, org, PASSWORD);
    }
    await put({ resourceType: 'Patient', id: 'victim', identifier: [{ system: MRN, value: 'victim' }], name: [{ family: 'Victime' }] });
    await put({ resourceType: 'Observation', id: 'obs-victim', status: 'final', code: { text: 'x' }, subject: { reference: 'Patient/victim' } });
    await put({
      resourceType: 'CareTeam',
      id: 'cds-victim',
      status: 'active',
      subject: { reference: 'Patient/victim' },
      managingOrganization: [{ reference: 'Organization/msp' }],
      participant: [{ member: { reference: 'PractitionerRole/role-member' } }],
    });
    await registerApp(origin(), {
      client_id: APP,
      token_endpoint_auth_method: 'none',
      redirect_uris: [APP_REDIRECT],
      grant_types: ['authorization_code'],
      scope: 'openid fhirUser user/*.cruds admin',
    });
    for (const actor of Object.keys(ACTORS) as (keyof typeof ACTORS)[]) {
      // A user asking for `admin` gets it from this client, and still writes no directory resource.
      const body = await userLogin(origin(), {
        clientId: APP,
        scope: 'openid fhirUser user/*.cruds admin',
        username: actor,
        password: PASSWORD,
        role: `role-${actor}`,
      });
      if (!body.scope?.split(' ').includes('admin')) throw new Error(JSON.stringify(body));
      tokens[actor] = body.access_token;
    }
    const pharmacy = await registerApp(origin(), { client_id: PHARMACY_CLIENT, grant_types: ['client_credentials'], scope: 'system/*.cruds' });
    tokens.pharmacyClient = await clientToken(PHARMACY_CLIENT, pharmacy.client_secret, 'system/*.cruds');
    const admin = await registerApp(origin(), { client_id: ADMIN_CLIENT, grant_types: ['client_credentials'], scope: 'system/*.cruds admin' });
    tokens.adminClient = await clientToken(ADMIN_CLIENT, admin.client_secret, 'system/*.cruds admin');
  });

  const status = (reply: { status: number }) => reply.status;
  const forbidden = (reply: { status: number; body: any }) => {
    expect(reply.status, JSON.stringify(reply.body)).toBe(403);
    expect(reply.body.resourceType).toBe('OperationOutcome');
  };
  const visiblePatients = async (who: Who) => (await as(who, 'GET', 'Patient?_summary=count')).body.total as number;

  describe('a CareTeam or Consent names its patient one way for the check and the links', () => {
    const spellings = (patient: string) => ({
      relative: `Patient/${patient}`,
      absolute: `${base()}/Patient/${patient}`,
      versioned: `Patient/${patient}/_history/1`,
      'absolute versioned': `${base()}/Patient/${patient}/_history/1`,
    });
    const careTeam = (reference: string) => ({
      resourceType: 'CareTeam',
      status: 'active',
      subject: { reference },
      participant: [{ member: { reference: 'PractitionerRole/role-pharmacist' } }],
    });
    const consent = (reference: string) => ({
      resourceType: 'Consent',
      status: 'active',
      scope: { text: 'privacy' },
      category: [{ text: 'partage' }],
      policyRule: { text: 'partage' },
      patient: { reference },
      provision: { type: 'permit', actor: [{ role: { text: 'recipient' }, reference: { reference: 'PractitionerRole/role-pharmacist' } }] },
    });
    const transaction = (...entry: unknown[]) => ({ resourceType: 'Bundle', type: 'transaction', entry });

    it('refuses every spelling of a patient outside the équipe, by POST, PUT, PATCH and in Bundles', async () => {
      for (const [how, reference] of Object.entries(spellings('victim'))) {
        for (const body of [careTeam(reference), consent(reference)]) {
          forbidden(await as('pharmacist', 'POST', body.resourceType, body));
          forbidden(await as('pharmacist', 'PUT', `${body.resourceType}/by-${how.replace(' ', '-')}`, { ...body, id: `by-${how.replace(' ', '-')}` }));
          const tx = await as('pharmacist', 'POST', '', transaction({ request: { method: 'POST', url: body.resourceType }, resource: body }));
          expect(tx.status, `${how} ${body.resourceType} in a transaction`).toBe(403);
          const batch = await as('pharmacist', 'POST', '', {
            resourceType: 'Bundle',
            type: 'batch',
            entry: [{ request: { method: 'POST', url: body.resourceType }, resource: body }],
          });
          expect(batch.body.entry[0].response.status).toMatch(/^403/);
        }
      }
      // Conditional: resolved with what the caller sees, so never to the victim.
      for (const body of [careTeam(`Patient?identifier=${MRN}|victim`), consent(`Patient?identifier=${MRN}|victim`)]) {
        const tx = await as('pharmacist', 'POST', '', transaction({ request: { method: 'POST', url: body.resourceType }, resource: body }));
        expect(tx.status).toBe(400);
        expect(tx.body.issue[0].diagnostics).toMatch(/matches no resource/);
      }
      // urn:uuid: the fullUrl of an entry that names the victim (its own PATCH runs after the POSTs).
      for (const body of [careTeam('urn:uuid:5f1c9a60-0000-4000-8000-000000000001'), consent('urn:uuid:5f1c9a60-0000-4000-8000-000000000001')]) {
        const tx = await as(
          'pharmacist',
          'POST',
          '',
          transaction(
            {
              fullUrl: 'urn:uuid:5f1c9a60-0000-4000-8000-000000000001',
              request: { method: 'PATCH', url: 'Patient/victim' },
              resource: { resourceType: 'Binary', contentType: 'application/json-patch+json', data: Buffer.from('[]').toString('base64') },
            },
            { request: { method: 'POST', url: body.resourceType }, resource: body },
          ),
        );
        expect(tx.status).toBe(403);
        expect(tx.body.issue[0].diagnostics).toMatch(/entry\[1\].*outside your équipe de soins/);
      }
      expect(status(await as('pharmacist', 'GET', 'Patient/victim'))).toBe(403);
      expect(await visiblePatients('pharmacist')).toBe(0);
    });

    it('links the patient however it is spelled, and a change keeps it whatever the spelling', async () => {
      const mine = Object.entries(spellings('x'));
      for (const [i, [how]] of mine.entries()) {
        const patient = await as('pharmacist', 'POST', 'Patient', { resourceType: 'Patient', name: [{ family: `Nouveau-${i}` }] });
        expect(patient.status).toBe(201);
        const reference = spellings(patient.body.id)[how as keyof ReturnType<typeof spellings>];
        const team = await as('pharmacist', 'POST', 'CareTeam', careTeam(reference));
        expect(team.status, how).toBe(201);
        expect(status(await as('pharmacist', 'GET', `Patient/${patient.body.id}`)), how).toBe(200);
        // A PATCH is checked on its result: the same patient spelled otherwise passes, another does not.
        const same = await as('pharmacist', 'PATCH', `CareTeam/${team.body.id}`, [
          { op: 'replace', path: '/subject/reference', value: `${base()}/Patient/${patient.body.id}` },
        ]);
        expect(same.status).toBe(200);
        forbidden(
          await as('pharmacist', 'PATCH', `CareTeam/${team.body.id}`, [{ op: 'replace', path: '/subject/reference', value: `${base()}/Patient/victim` }]),
        );
      }
      // A consent shared with the pharmacist by the victim's team, spelled absolute, links her.
      const shared = await as('member', 'POST', 'Consent', consent(`${base()}/Patient/victim/_history/1`));
      expect(shared.status).toBe(201);
      expect(status(await as('pharmacist', 'GET', 'Patient/victim'))).toBe(200);
      expect(status(await as('member', 'DELETE', `Consent/${shared.body.id}`))).toBe(200);
      expect(status(await as('pharmacist', 'GET', 'Patient/victim'))).toBe(403);
    });
  });

  describe('the directory and conformance resources', () => {
    const role = (id: string, org: string) => ({
      resourceType: 'PractitionerRole',
      id,
      active: true,
      practitioner: { reference: 'Practitioner/pr-pharmacist' },
      organization: { reference: `Organization/${org}` },
    });
    const valueSet = (id: string) => ({ resourceType: 'ValueSet', id, url: `https://example.org/ValueSet/${id}`, status: 'draft' });

    it('are never written by a user, whatever the interaction', async () => {
      const before = await visiblePatients('pharmacist');
      forbidden(await as('pharmacist', 'POST', 'PractitionerRole', { ...role('x', 'msp'), id: undefined }));
      forbidden(await as('pharmacist', 'PUT', 'PractitionerRole/role-pharmacist', role('role-pharmacist', 'msp')));
      forbidden(
        await as('pharmacist', 'PATCH', 'PractitionerRole/role-pharmacist', [{ op: 'replace', path: '/organization/reference', value: 'Organization/msp' }]),
      );
      forbidden(await as('pharmacist', 'PUT', 'PractitionerRole?practitioner=Practitioner/pr-pharmacist', role('role-pharmacist', 'msp')));
      forbidden(await as('pharmacist', 'DELETE', 'Organization/msp'));
      forbidden(await as('pharmacist', 'DELETE', 'Organization?name=msp'));
      forbidden(await as('pharmacist', 'PUT', 'Practitioner/pr-pharmacist', { resourceType: 'Practitioner', id: 'pr-pharmacist', name: [{ family: 'x' }] }));
      for (const type of ['Location', 'HealthcareService', 'Endpoint', 'Organization']) forbidden(await as('pharmacist', 'POST', type, { resourceType: type }));
      forbidden(await as('pharmacist', 'POST', 'ValueSet', valueSet('vs-user')));
      forbidden(
        await as('pharmacist', 'POST', 'SearchParameter', {
          resourceType: 'SearchParameter',
          url: 'https://example.org/sp',
          name: 'x',
          status: 'draft',
          description: 'x',
          code: 'x',
          base: ['Patient'],
          type: 'token',
          expression: 'Patient.id',
        }),
      );
      forbidden(await as('pharmacist', 'POST', 'StructureDefinition', { resourceType: 'StructureDefinition' }));
      forbidden(
        await as('pharmacist', 'POST', '$load-package', {
          resourceType: 'Parameters',
          parameter: [
            { name: 'name', valueString: 'x' },
            { name: 'version', valueString: '1.0.0' },
          ],
        }),
      );
      const tx = await as('pharmacist', 'POST', '', {
        resourceType: 'Bundle',
        type: 'transaction',
        entry: [{ request: { method: 'PUT', url: 'PractitionerRole/role-pharmacist' }, resource: role('role-pharmacist', 'msp') }],
      });
      forbidden(tx);
      const batch = await as('pharmacist', 'POST', '', {
        resourceType: 'Bundle',
        type: 'batch',
        entry: [{ request: { method: 'POST', url: 'PractitionerRole' }, resource: role('y', 'msp') }],
      });
      expect(batch.body.entry[0].response.status).toMatch(/^403/);
      expect((await as('operator', 'GET', 'PractitionerRole/role-pharmacist')).body.organization.reference).toBe('Organization/pharmacie');
      expect(await visiblePatients('pharmacist')).toBe(before);
      // Reading stays open.
      expect(status(await as('pharmacist', 'GET', 'Organization/msp'))).toBe(200);
    });

    it('are written by administrators and system clients of the whole pôle', async () => {
      for (const who of ['operator', 'wholePole', 'adminClient'] as const) {
        expect(status(await as(who, 'PUT', `ValueSet/vs-${who}`, valueSet(`vs-${who}`))), who).toBe(201);
        expect(status(await as(who, 'PUT', `Organization/org-${who}`, { resourceType: 'Organization', id: `org-${who}`, name: who })), who).toBe(201);
        expect(status(await as(who, 'PATCH', `Organization/org-${who}`, [{ op: 'add', path: '/active', value: true }])), who).toBe(200);
        expect(status(await as(who, 'DELETE', `Organization/org-${who}`)), who).toBe(200);
      }
    });

    it('are written by a system client for its own structure, and kept so', async () => {
      const c = 'pharmacyClient';
      expect(status(await as(c, 'PUT', 'PractitionerRole/role-pharmacie-2', role('role-pharmacie-2', 'pharmacie')))).toBe(201);
      expect(status(await as(c, 'PUT', 'Organization/pharmacie', { resourceType: 'Organization', id: 'pharmacie', name: 'Pharmacie du Centre' }))).toBe(200);
      expect(
        status(
          await as(c, 'POST', 'Organization', {
            resourceType: 'Organization',
            name: 'Officine annexe',
            partOf: { reference: `${base()}/Organization/pharmacie` },
          }),
        ),
      ).toBe(201);
      expect(
        status(await as(c, 'POST', 'Location', { resourceType: 'Location', name: 'Comptoir', managingOrganization: { reference: 'Organization/pharmacie' } })),
      ).toBe(201);
      forbidden(await as(c, 'POST', 'PractitionerRole', { ...role('x', 'msp'), id: undefined }));
      forbidden(await as(c, 'PUT', 'PractitionerRole/role-pharmacie-2', role('role-pharmacie-2', 'msp')));
      forbidden(
        await as(c, 'PATCH', 'PractitionerRole/role-pharmacist', [{ op: 'replace', path: '/organization/reference', value: `${base()}/Organization/msp` }]),
      );
      forbidden(
        await as(c, 'PUT', 'Organization/msp', { resourceType: 'Organization', id: 'msp', name: 'msp', partOf: { reference: 'Organization/pharmacie' } }),
      );
      forbidden(await as(c, 'DELETE', 'PractitionerRole/role-member'));
      forbidden(await as(c, 'PUT', 'Practitioner/pr-pharmacist', { resourceType: 'Practitioner', id: 'pr-pharmacist', name: [{ family: 'x' }] }));
      forbidden(await as(c, 'PUT', 'ValueSet/vs-client', valueSet('vs-client')));
      forbidden(await as(c, 'POST', '$load-package', { resourceType: 'Parameters' }));
      const tx = await as(c, 'POST', '', {
        resourceType: 'Bundle',
        type: 'transaction',
        entry: [
          { request: { method: 'PUT', url: 'PractitionerRole?practitioner=Practitioner/pr-member' }, resource: { ...role('z', 'pharmacie'), id: undefined } },
        ],
      });
      forbidden(tx);
      expect((await as('operator', 'GET', 'PractitionerRole/role-member')).body.organization.reference).toBe('Organization/cabinet');
    });
  });

  describe('Provenance', () => {
    it('is seen with every resource it targets, in reads, searches, counts, includes and histories', async () => {
      const obs = await as('member', 'POST', 'Observation', {
        resourceType: 'Observation',
        status: 'final',
        code: { text: 'tension' },
        subject: { reference: 'Patient/victim' },
      });
      expect(obs.status).toBe(201);
      const target = `Observation/${obs.body.id}`;
      const written = await as('member', 'GET', `Provenance?target=${target}`);
      expect(written.body.entry).toHaveLength(1);
      const id = written.body.entry[0].resource.id;
      // Mixed targets: the directory is open, the patient's data is not.
      const mixed = await as('operator', 'POST', 'Provenance', {
        resourceType: 'Provenance',
        recorded: new Date().toISOString(),
        target: [{ reference: 'Organization/msp' }, { reference: `${base()}/${target}/_history/1` }],
        agent: [{ who: { reference: 'PractitionerRole/role-member' } }],
      });
      expect(mixed.status).toBe(201);
      const directoryOnly = await as('operator', 'POST', 'Provenance', {
        resourceType: 'Provenance',
        recorded: new Date().toISOString(),
        target: [{ reference: 'Organization/msp' }],
        agent: [{ who: { reference: 'PractitionerRole/role-member' } }],
      });

      const ids = (reply: any, mode = 'match') =>
        (reply.body.entry ?? [])
          .filter((e: any) => e.search?.mode === mode)
          .map((e: any) => e.resource.id)
          .sort();
      for (const [who, sees] of [
        ['member', true],
        ['pharmacist', false],
      ] as const) {
        expect(status(await as(who, 'GET', `Provenance/${id}`)), who).toBe(sees ? 200 : 403);
        expect(status(await as(who, 'GET', `Provenance/${mixed.body.id}`)), who).toBe(sees ? 200 : 403);
        expect(status(await as(who, 'GET', `Provenance/${id}/_history`)), who).toBe(sees ? 200 : 403);
        expect(status(await as(who, 'GET', `Provenance/${id}/_history/1`)), who).toBe(sees ? 200 : 403);
        expect(status(await as(who, 'GET', `Provenance/${directoryOnly.body.id}`)), who).toBe(200);
        const all = ids(await as(who, 'GET', 'Provenance?_count=1000'));
        expect(all.includes(id), who).toBe(sees);
        expect(all.includes(mixed.body.id), who).toBe(sees);
        expect(all).toContain(directoryOnly.body.id);
        expect((await as(who, 'GET', `Provenance?target=${target}&_summary=count`)).body.total, who).toBe(sees ? 2 : 0);
        expect((await as(who, 'GET', 'Provenance?_summary=count')).body.total, who).toBe(all.length);
        // The Provenance of the operator's write of `mixed` goes with it.
        expect((await as(who, 'GET', `Provenance?target=Provenance/${mixed.body.id}&_summary=count`)).body.total, who).toBe(sees ? 1 : 0);
        const rev = await as(who, 'GET', `Organization?_id=msp&_revinclude=Provenance:target`);
        expect(ids(rev, 'include'), who).toEqual(sees ? [mixed.body.id, directoryOnly.body.id].sort() : [directoryOnly.body.id]);
        const has = await as(who, 'GET', `Organization?_id=msp&_has:Provenance:target:_id=${mixed.body.id}`);
        expect(ids(has), who).toEqual(sees ? ['msp'] : []);
        const history = (await as(who, 'GET', 'Provenance/_history?_count=1000')).body.entry.map((e: any) => e.resource?.id);
        expect(history.includes(id), who).toBe(sees);
        const system = (await as(who, 'GET', '_history?_count=1000')).body.entry.map((e: any) => e.resource?.id);
        expect(system.includes(mixed.body.id), who).toBe(sees);
      }
      // A target of a patient's data deleted: whose it was cannot be told any more.
      expect(status(await as('member', 'DELETE', target))).toBe(200);
      expect(status(await as('member', 'GET', `Provenance/${mixed.body.id}`))).toBe(403);
    });
  });
});
