import { join } from 'node:path';
import type { Bundle, Resource, Slot } from '@medplum/fhirtypes';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { DATABASES, useServer } from '../../tests/harness.js';
import { call, OPERATOR, postForm, registerApp } from '../../tests/smart.js';
import { readPackage } from '../packages/files.js';

/** The SAS IG's CPTS examples (ans.fhir.fr.sas#1.2.0-cpts-subset). */
const folder = join(process.env.FHIR_PACKAGES ?? join(import.meta.dirname, '../../../shared/fhir'), 'ans.fhir.fr.sas#1.2.0-cpts-subset');
const examples = readPackage(folder).examples;
const DAY = 86_400_000;

/** The SAS platform's narrow scopes: the agenda and directory resources it reads, no patient data. */
const SAS_SCOPES = 'system/Slot.rs system/Schedule.rs system/Practitioner.rs system/PractitionerRole.rs system/HealthcareService.rs system/Organization.rs';

/** Moves a date by whole days, keeping its time of day and offset as written. */
function shift(date: string, days: number): string {
  const m = /^(\d{4}-\d{2}-\d{2})(T.*)$/.exec(date) as RegExpExecArray;
  return new Date(Date.parse(`${m[1]}T00:00:00Z`) + days * DAY).toISOString().slice(0, 10) + m[2];
}

/** Every resource of the examples, the Bundles' entries included, once each. */
function exampleResources(): Resource[] {
  const all = new Map<string, Resource>();
  for (const r of examples) {
    const list = r.resourceType === 'Bundle' ? ((r as Bundle).entry ?? []).map((e) => e.resource as Resource) : [r];
    for (const x of list) all.set(`${x.resourceType}/${x.id}`, x);
  }
  return [...all.values()];
}

const SAS_QUERY = (from: string, to: string) =>
  `Slot?_include=Slot:schedule&_include:iterate=Schedule:actor&_include=Slot:service-type-reference&_include:iterate=HealthcareService:organization` +
  `&start=ge${from}&start=le${to}&schedule.actor:Practitioner.identifier=urn:oid:1.2.250.1.71.4.2.1|810002909371&status=free`;

describe.each(DATABASES)('the SAS aggregator role on %s', (kind) => {
  const t = useServer(kind, { auth: true, ...OPERATOR });
  const origin = () => t.server.url;
  let admin: string;
  let sas: string;
  let days: number;
  let from: string;
  let to: string;

  beforeAll(async () => {
    admin = (
      await postForm(
        `${origin()}/auth/token`,
        { grant_type: 'client_credentials', scope: 'system/*.cruds' },
        { authorization: `Basic ${Buffer.from(`${OPERATOR.bootstrapClientId}:${OPERATOR.bootstrapClientSecret}`).toString('base64')}` },
      )
    ).body.access_token;
    // The examples' slots (12 June 2024) moved to tomorrow, same time of day; the originals are past.
    const slot = examples.find((r) => r.id === 'ExampleSlotCPTS1') as Slot;
    days = Math.ceil((Date.now() - Date.parse(slot.start)) / DAY) + 1;
    for (const r of exampleResources()) {
      const moved = r.resourceType === 'Slot' ? { ...r, start: shift((r as Slot).start, days), end: shift((r as Slot).end, days) } : r;
      const res = await call('PUT', `${t.server.base}/${r.resourceType}/${r.id}`, admin, moved);
      expect(res.status, `${r.resourceType}/${r.id}: ${JSON.stringify(res.body)}`).toBeLessThan(300);
    }
    const past = { ...slot, id: 'ExampleSlotPast' };
    expect((await call('PUT', `${t.server.base}/Slot/ExampleSlotPast`, admin, past)).status).toBe(201);
    // The SAS platform: a SMART backend client (private_key_jwt) with the narrow scopes.
    const { privateKey } = await generateKeyPair('ES384', { extractable: true });
    const { d: _d, ...pub } = await exportJWK(privateKey);
    await registerApp(origin(), {
      client_id: 'sas-platform',
      client_name: 'Plateforme numérique SAS',
      token_endpoint_auth_method: 'private_key_jwt',
      grant_types: ['client_credentials'],
      jwks: { keys: [{ ...pub, kid: 'sas-1', alg: 'ES384' }] },
      scope: SAS_SCOPES,
    });
    const tokenUrl = `${origin()}/auth/token`;
    const assertion = await new SignJWT({})
      .setProtectedHeader({ alg: 'ES384', kid: 'sas-1', typ: 'JWT' })
      .setIssuer('sas-platform')
      .setSubject('sas-platform')
      .setAudience(tokenUrl)
      .setExpirationTime('4m')
      .setJti(randomUUID())
      .sign(privateKey);
    const token = await postForm(tokenUrl, {
      grant_type: 'client_credentials',
      scope: SAS_SCOPES,
      client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
      client_assertion: assertion,
    });
    expect(token.status).toBe(200);
    sas = token.body.access_token;
    // The SAS's window: the hour around the examples' slots, written as the SAS writes it (a literal + in the offset).
    from = shift('2024-06-12T16:20:00.000+02:00', days);
    to = shift('2024-06-12T17:20:00.000+02:00', days);
  });

  it('answers the SAS Slot query with the slots, their schedules, actors, services and organisations', async () => {
    const res = await call('GET', `${t.server.base}/${SAS_QUERY(from, to)}`, sas, undefined, { accept: 'application/json+fhir' });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    const bundle = res.body as Bundle;
    expect(bundle.total).toBe(2);
    const found = (mode: string) =>
      (bundle.entry ?? [])
        .filter((e) => e.search?.mode === mode)
        .map((e) => `${e.resource?.resourceType}/${e.resource?.id}`)
        .sort();
    expect(found('match')).toEqual(['Slot/ExampleSlotCPTS1', 'Slot/ExampleSlotCPTS2']);
    expect(found('include')).toEqual(
      [
        'HealthcareService/ExampleHealthcareServiceCPTS1',
        'HealthcareService/ExampleHealthcareServiceCPTS2',
        'Organization/ExampleOrgaCPTS1',
        'Organization/ExampleOrgaCPTS2',
        'Practitioner/ExamplePractitioner',
        'PractitionerRole/ExamplePractitionerRoleAgregateur',
        'Schedule/ExampleSchedule',
      ].sort(),
    );
    // The Bundle, and each resource in it, validate against the SAS profiles.
    const validated = await call('POST', `${t.server.base}/Bundle/$validate`, admin, {
      resourceType: 'Parameters',
      parameter: [
        { name: 'resource', resource: bundle },
        { name: 'profile', valueUri: 'https://interop.esante.gouv.fr/ig/fhir/sas/StructureDefinition/sas-cpts-bundle-aggregator' },
      ],
    });
    expect(validated.status).toBe(200);
    const errors = validated.body.issue.filter((i: { severity: string }) => i.severity === 'error' || i.severity === 'fatal');
    expect(errors).toEqual([]);
    for (const e of bundle.entry ?? []) {
      const profile = e.resource?.meta?.profile?.find((p) => p.startsWith('https://interop.esante.gouv.fr/ig/fhir/sas/'));
      if (!profile) continue;
      const one = await call('POST', `${t.server.base}/${e.resource?.resourceType}/$validate`, admin, {
        resourceType: 'Parameters',
        parameter: [
          { name: 'resource', resource: e.resource },
          { name: 'profile', valueUri: profile },
        ],
      });
      expect(
        one.body.issue.filter((i: { severity: string }) => i.severity === 'error'),
        profile,
      ).toEqual([]);
    }
  });

  it('does not offer a past slot, even in the window asked for; a booked one is not free', async () => {
    const past = await call('GET', `${t.server.base}/${SAS_QUERY('2024-06-12T16:20:00.000+02:00', '2024-06-12T17:20:00.000+02:00')}`, sas);
    expect(past.status).toBe(200);
    expect(past.body.total).toBe(0);
    // The practice still sees it.
    expect((await call('GET', `${t.server.base}/Slot?_id=ExampleSlotPast`, admin)).body.total).toBe(1);
    // Booked (the SAS profile fixes a published slot's status to free: it turns busy by booking only).
    const slot = (await call('GET', `${t.server.base}/Slot/ExampleSlotCPTS2`, admin)).body as Slot;
    expect((await call('PUT', `${t.server.base}/Patient/p1`, admin, { resourceType: 'Patient', id: 'p1', name: [{ family: 'Durand' }] })).status).toBe(201);
    const booked = await call('POST', `${t.server.base}/Appointment`, admin, {
      resourceType: 'Appointment',
      status: 'booked',
      slot: [{ reference: 'Slot/ExampleSlotCPTS2' }],
      start: slot.start,
      end: slot.end,
      participant: [{ actor: { reference: 'Patient/p1' }, status: 'accepted' }],
    });
    expect(booked.status).toBe(201);
    const now = await call('GET', `${t.server.base}/${SAS_QUERY(from, to)}`, sas);
    expect(now.body.entry.filter((e: { search: { mode: string } }) => e.search.mode === 'match').map((e: { resource: Resource }) => e.resource.id)).toEqual([
      'ExampleSlotCPTS1',
    ]);
    expect((await call('PUT', `${t.server.base}/Appointment/${booked.body.id}`, admin, { ...booked.body, status: 'cancelled' })).status).toBe(200);
    expect((await call('GET', `${t.server.base}/${SAS_QUERY(from, to)}`, sas)).body.total).toBe(2);
  });

  it('finds Schedules by actor and Practitioners by RPPS', async () => {
    const schedules = await call('GET', `${t.server.base}/Schedule?actor=Practitioner/ExamplePractitioner`, sas);
    expect(schedules.body.entry.map((e: { resource: Resource }) => e.resource.id)).toEqual(['ExampleSchedule']);
    const practitioners = await call('GET', `${t.server.base}/Practitioner?identifier=urn:oid:1.2.250.1.71.4.2.1|810002909371`, sas);
    expect(practitioners.body.entry.map((e: { resource: Resource }) => e.resource.id)).toEqual(['ExamplePractitioner']);
  });

  it('gives the SAS platform no patient data and no writes', async () => {
    expect((await call('GET', `${t.server.base}/Patient`, sas)).status).toBe(403);
    expect((await call('GET', `${t.server.base}/Appointment`, sas)).status).toBe(403);
    const slot = (await call('GET', `${t.server.base}/Slot/ExampleSlotCPTS1`, sas)).body;
    expect((await call('PUT', `${t.server.base}/Slot/ExampleSlotCPTS1`, sas, { ...slot, status: 'busy' })).status).toBe(403);
  });
});
