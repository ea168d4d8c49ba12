import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Config } from '../../config.js';
import { DATABASES, useServer } from '../../../tests/harness.js';
import { startReceiver } from '../../../tests/receiver.js';
import { useSmtp } from '../../../tests/smtp.js';
import { backendToken, call, cercleDeSoins, OPERATOR, operatorToken, opposition, placePractitioner, putAs } from '../../../tests/smart.js';
import { EVENT_TYPE_SYSTEM, NDE_CAPABILITY, NDE_EXTENSION, NDE_PROFILE } from './vocabulary.js';

const IPP = 'https://ch-lysmont.example/ipp';
const eventType = (code: string) => ({ url: NDE_EXTENSION.eventType, valueCodeableConcept: { coding: [{ system: EVENT_TYPE_SYSTEM, code }] } });

/** A hospital's flux 3 declaration, its patient and emitter contained, as the IG's example. */
const declaration = (code: string, ipp: string, extra: Record<string, unknown> = {}) => ({
  resourceType: 'CommunicationRequest',
  meta: { profile: [NDE_PROFILE.eventDeclaration] },
  contained: [
    { resourceType: 'Patient', id: 'pat1', identifier: [{ system: IPP, value: ipp }], name: [{ family: 'Langdon', given: ['Robert'] }] },
    { resourceType: 'Organization', id: 'org1', name: 'Service de pneumologie, CH de Lysmont' },
  ],
  extension: [eventType(code), { url: NDE_EXTENSION.eventTime, valueDateTime: '2026-12-01T10:00:00+01:00' }],
  status: 'active',
  subject: { reference: '#pat1' },
  requester: { reference: '#org1' },
  payload: [{ contentString: 'Sortie du patient de l’établissement' }],
  ...extra,
});

/** An nde-subscription (flux 1): the patient, declarant and subscriber contained, the criteria by event type only. */
const ndeSubscription = (code: string, ipp: string, channel: Record<string, unknown>) => ({
  resourceType: 'Subscription',
  meta: { profile: [NDE_PROFILE.subscription] },
  contained: [
    { resourceType: 'Patient', id: 'pat1', identifier: [{ system: IPP, value: ipp }] },
    { resourceType: 'Organization', id: 'org1', name: 'CH de Lysmont' },
    {
      resourceType: 'Practitioner',
      id: 'pract1',
      name: [{ family: 'Durand', given: ['Pierre'] }],
      telecom: [{ system: 'email', value: 'pierre.durand@msp.test' }],
    },
  ],
  extension: [
    { url: `${NDE_EXTENSION.eventType.replace('event-type', 'start')}`, valueDateTime: '2026-12-01T00:00:00+01:00' },
    { url: NDE_EXTENSION.subject, valueReference: { reference: '#pat1' } },
    { url: NDE_EXTENSION.eventType.replace('event-type', 'declarant'), valueReference: { reference: '#org1' } },
    eventType(code),
    { url: NDE_EXTENSION.subscriber, valueReference: { reference: '#pract1' } },
  ],
  status: 'requested',
  reason: 'Sorties de mon patient',
  criteria: `CommunicationRequest?event-type=${code}`,
  channel,
});

const patient = (id: string, ipp: string) => ({ resourceType: 'Patient', id, identifier: [{ system: IPP, value: ipp }], name: [{ family: id }] });
const stay = (id: string, patientId: string, status: string) => ({
  resourceType: 'Encounter',
  id,
  status,
  class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'IMP' },
  subject: { reference: `Patient/${patientId}` },
  serviceProvider: { reference: 'Organization/ch' },
  period: { start: '2026-12-01T08:00:00+01:00', ...(status === 'finished' ? { end: '2026-12-05T11:00:00+01:00' } : {}) },
});

describe.each(DATABASES)('ANS NdE, Maillage as gestionnaire d’abonnements, on %s', (kind) => {
  const ctx = useServer(kind);
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  beforeAll(async () => {
    receiver = await startReceiver();
    await ctx.api.put('Organization/ch', { resourceType: 'Organization', id: 'ch', name: 'Centre hospitalier de Lysmont' });
    for (const [id, ipp] of [
      ['langdon', '1001'],
      ['vetra', '1002'],
    ]) {
      expect((await ctx.api.put(`Patient/${id}`, patient(id, ipp))).status).toBe(201);
    }
  });
  afterAll(() => receiver?.close());

  it('flux 3: files a declaration under the record’s Patient, searchable by event type and patient; refuses what it cannot file', async () => {
    const { api } = ctx;
    const created = await api.post('CommunicationRequest', declaration('SOR', '1001'));
    expect(created.status).toBe(201);
    expect(created.body.subject).toEqual({ reference: 'Patient/langdon', identifier: { system: IPP, value: '1001' } });
    expect(created.body.contained).toEqual([{ resourceType: 'Organization', id: 'org1', name: 'Service de pneumologie, CH de Lysmont' }]);
    const found = await api.get('CommunicationRequest?event-type=SOR&patient=Patient/langdon');
    expect(found.body.entry.map((e: { resource: { id: string } }) => e.resource.id)).toEqual([created.body.id]);
    expect(
      (await api.get(`CommunicationRequest?event-type=${encodeURIComponent(`${EVENT_TYPE_SYSTEM}|ADM`)}&patient=Patient/langdon`)).body.entry ?? [],
    ).toEqual([]);
    for (const [body, why] of [
      [declaration('XYZ', '1001'), /JDV_J46/],
      [declaration('SOR', '9999'), /No Patient of the pôle/],
      [{ ...declaration('SOR', '1001'), extension: [eventType('SOR')] }, /event-time/],
      [{ ...declaration('SOR', '1001'), about: [{ reference: 'Device/x' }] }, /subject or about/],
      [{ ...declaration('SOR', '1001'), payload: undefined }, /payload/],
    ] as const) {
      const res = await api.post('CommunicationRequest', body);
      expect(res.status, JSON.stringify(body.extension)).toBe(422);
      expect(res.body.resourceType).toBe('OperationOutcome');
      expect(JSON.stringify(res.body.issue)).toMatch(why);
    }
  });

  it('flux 1 and 4: an nde-subscription gets its criteria completed, and each event is a notification order POSTed to the gestionnaire de notifications', async () => {
    const { api } = ctx;
    const created = await api.post(
      'Subscription',
      ndeSubscription('SOR', '1001', { type: 'rest-hook', endpoint: `${receiver.url}/gdn/fhir`, header: ['Authorization: Bearer gdn'] }),
    );
    expect(created.status).toBe(201);
    expect(created.body.status).toBe('active');
    expect(created.body.criteria).toBe('CommunicationRequest?event-type=SOR&patient=Patient/langdon');
    const start = receiver.received.length;
    // Another event type, and the same type for another patient: not this subscription's.
    await api.post('CommunicationRequest', declaration('ADM', '1001'));
    await api.post('CommunicationRequest', declaration('SOR', '1002'));
    const sor = await api.post('CommunicationRequest', declaration('SOR', '1001'));
    const [order] = (await receiver.waitFor(start + 1)).slice(start);
    expect(order.method).toBe('POST');
    expect(order.url).toBe('/gdn/fhir/CommunicationRequest');
    expect(order.headers.authorization).toBe('Bearer gdn');
    expect(order.headers['content-type']).toBe('application/fhir+json');
    const body = JSON.parse(order.body);
    expect(body).toMatchObject({
      resourceType: 'CommunicationRequest',
      meta: { profile: [NDE_PROFILE.notificationRequest] },
      basedOn: [{ reference: `${ctx.server.base}/Subscription/${created.body.id}` }],
      status: 'active',
      subject: { reference: '#patient' },
      requester: { reference: '#emitter' },
      medium: [{ coding: [{ code: '3' }] }],
      recipient: [{ reference: '#recipient', extension: [{ url: NDE_EXTENSION.recipientEndpoint, valueUrl: 'mailto:pierre.durand@msp.test' }] }],
      payload: [{ contentString: 'Sortie du patient de l’établissement' }],
    });
    expect(body.extension.map((e: { url: string }) => e.url)).toEqual([NDE_EXTENSION.eventType, NDE_EXTENSION.eventTime, NDE_EXTENSION.eventEmissionTime]);
    expect(body.extension[0].valueCodeableConcept.coding[0].code).toBe('SOR');
    const contained = Object.fromEntries(body.contained.map((c: { id: string }) => [c.id, c]));
    expect(contained.patient).toMatchObject({ resourceType: 'Patient', identifier: [{ system: IPP, value: '1001' }], name: [{ family: 'langdon' }] });
    expect(contained.emitter).toMatchObject({ resourceType: 'Organization', name: 'Service de pneumologie, CH de Lysmont' });
    expect(contained.recipient).toMatchObject({ resourceType: 'Practitioner', name: [{ family: 'Durand' }] });
    await new Promise((r) => setTimeout(r, 300));
    expect(receiver.received.length - start).toBe(1);
    expect(sor.status).toBe(201);
    // Flux 2: the subscription deleted, nothing more is sent.
    expect((await api.delete(`Subscription/${created.body.id}`)).status).toBeLessThan(300);
    await api.post('CommunicationRequest', declaration('SOR', '1001'));
    await new Promise((r) => setTimeout(r, 500));
    expect(receiver.received.length - start).toBe(1);
  });

  it('pings a websocket bound to an NdE subscription for each of its events, and for no other', async () => {
    const { api } = ctx;
    const created = await api.post('Subscription', ndeSubscription('ADM', '1002', { type: 'websocket' }));
    expect(created.body.criteria).toBe('CommunicationRequest?event-type=ADM&patient=Patient/vetra');
    const ws = new WebSocket(`${ctx.server.url.replace('http', 'ws')}/ws/subscriptions`);
    const heard: string[] = [];
    ws.on('message', (m) => heard.push(m.toString()));
    await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
    const until = async (n: number) => {
      const start = Date.now();
      while (heard.length < n && Date.now() - start < 8000) await new Promise((r) => setTimeout(r, 20));
    };
    ws.send(`bind ${created.body.id}`);
    await until(1);
    await api.post('CommunicationRequest', declaration('SOR', '1002'));
    await api.put('Encounter/ws-stay', stay('ws-stay', 'vetra', 'in-progress'));
    await until(2);
    await new Promise((r) => setTimeout(r, 300));
    expect(heard).toEqual([`bound ${created.body.id}`, `ping ${created.body.id}`]);
    ws.close();
  });

  it('says in /metadata that it is the NdE gestionnaire d’abonnements, searching CommunicationRequest by event-type', async () => {
    const metadata = (await ctx.api.get('metadata')).body;
    expect(metadata.instantiates).toContain(NDE_CAPABILITY);
    const cr = metadata.rest[0].resource.find((r: { type: string }) => r.type === 'CommunicationRequest');
    expect(cr.searchParam.map((p: { name: string }) => p.name)).toEqual(expect.arrayContaining(['event-type', 'patient', 'encounter']));
  });

  it('raises ADM and SOR of its own accord when a hospital stay’s Encounter is admitted and finished, once each', async () => {
    const { api } = ctx;
    const sub = await api.post('Subscription', ndeSubscription('SOR', '1002', { type: 'rest-hook', endpoint: `${receiver.url}/stays` }));
    expect(sub.body.criteria).toBe('CommunicationRequest?event-type=SOR&patient=Patient/vetra');
    const start = receiver.received.length;
    await api.put('Encounter/stay-1', stay('stay-1', 'vetra', 'in-progress'));
    await api.put('Encounter/stay-1', stay('stay-1', 'vetra', 'finished'));
    // Written again finished (a correction): no second discharge.
    await api.put('Encounter/stay-1', { ...stay('stay-1', 'vetra', 'finished'), length: { value: 4, unit: 'd' } });
    const declared = await api.get('CommunicationRequest?patient=Patient/vetra&encounter=Encounter/stay-1');
    const codes = declared.body.entry.map(
      (e: { resource: { extension: { valueCodeableConcept: { coding: { code: string }[] } }[] } }) =>
        e.resource.extension[0].valueCodeableConcept.coding[0].code,
    );
    expect(codes.sort()).toEqual(['ADM', 'SOR']);
    const [order] = (await receiver.waitFor(start + 1)).slice(start);
    const body = JSON.parse(order.body);
    expect(body.extension.find((e: { url: string }) => e.url === NDE_EXTENSION.eventTime).valueDateTime).toBe('2026-12-05T11:00:00+01:00');
    expect(body.encounter.reference).toBe(`${ctx.server.base}/Encounter/stay-1`);
    expect(Object.fromEntries(body.contained.map((c: { id: string }) => [c.id, c])).emitter.name).toBe('Centre hospitalier de Lysmont');
    await new Promise((r) => setTimeout(r, 300));
    expect(receiver.received.length - start).toBe(1);
    // An outpatient visit finished is no discharge.
    await api.put('Encounter/visit-1', {
      ...stay('visit-1', 'vetra', 'finished'),
      class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'AMB' },
    });
    expect((await api.get('CommunicationRequest?encounter=Encounter/visit-1')).body.entry ?? []).toEqual([]);
  });
});

describe.each(DATABASES)('NdE by email through a real SMTP server, on %s', (kind) => {
  const overrides: Partial<Config> = { mailFrom: 'notifications@maillage.test' };
  const smtp = useSmtp(overrides);
  const ctx = useServer(kind, overrides);

  it('mails the subscriber of the IG’s example (email channel) at each discharge, naming the event only', async () => {
    const { api } = ctx;
    await api.put('Patient/robert', patient('robert', '2001'));
    const created = await api.post('Subscription', ndeSubscription('SOR', '2001', { type: 'email', endpoint: 'mailto:pierre.durand@aphp.test' }));
    expect(created.status).toBe(201);
    await api.put('Encounter/robert-stay', {
      ...stay('robert-stay', 'robert', 'finished'),
      serviceProvider: undefined,
      reasonCode: [{ text: 'pneumopathie' }],
    });
    await smtp.first();
    expect(smtp.mails).toHaveLength(1);
    expect(smtp.mails[0].to).toEqual(['pierre.durand@aphp.test']);
    const { text } = smtp.mails[0];
    expect(text).toContain(`${ctx.server.base}/CommunicationRequest/`);
    expect(text).not.toMatch(/pneumopathie|robert/i);
  });
});

describe.each(DATABASES)('NdE and the équipe de soins, on %s', (kind) => {
  const SYSTEM = { id: 'lgc-cabinet-nde', org: 'cabinet' };
  const t = useServer(kind, {
    auth: true,
    ...OPERATOR,
    accessRules: { recordHolders: [], clientOrganizations: { [SYSTEM.id]: SYSTEM.org }, breakGlassMinutes: 0 },
  });
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  let operator: string;
  let system: string;
  const fhir = (path: string) => `${t.server.url}/fhir/${path}`;
  const put = (token: string, r: Record<string, any>) => putAs(t.server.url, token, r);
  beforeAll(async () => {
    receiver = await startReceiver();
    operator = await operatorToken(t.server.url);
    await put(operator, { resourceType: 'Organization', id: 'cabinet', name: 'Cabinet' });
    await put(operator, { resourceType: 'Organization', id: 'ch', name: 'CH' });
    await placePractitioner(t.server.url, operator, 'gp', 'cabinet');
    await put(operator, patient('mine', '3001'));
    await put(operator, patient('stranger', '3002'));
    await put(operator, cercleDeSoins('mine', 'role-gp'));
    system = await backendToken(t.server.url, SYSTEM.id);
  });
  afterAll(() => receiver?.close());

  it('sends orders only about the subscriber’s patients, and none after the patient opposes sharing', async () => {
    // "My patients' discharges": no patient named, the équipe de soins decides.
    const sub = { ...ndeSubscription('SOR', '3001', { type: 'rest-hook', endpoint: `${receiver.url}/lgc` }) };
    sub.extension = sub.extension.filter((e) => e.url !== NDE_EXTENSION.subject);
    const created = await call('POST', fhir('Subscription'), system, sub);
    expect(created.status).toBe(201);
    expect(created.body.criteria).toBe('CommunicationRequest?event-type=SOR');
    await put(operator, stay('s-stranger', 'stranger', 'finished'));
    await put(operator, stay('s-mine', 'mine', 'finished'));
    const [first] = await receiver.waitFor(1);
    expect(JSON.parse(first.body).encounter.reference).toBe(fhir('Encounter/s-mine'));
    await put(operator, opposition('opp-mine', 'mine'));
    await put(operator, stay('s-mine-2', 'mine', 'finished'));
    await new Promise((r) => setTimeout(r, 1500));
    expect(receiver.received).toHaveLength(1);
    expect(JSON.stringify(receiver.received)).not.toMatch(/s-stranger|s-mine-2|3002/);
  });
});
