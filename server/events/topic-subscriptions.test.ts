import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DATABASES, useServer } from '../../tests/harness.js';
import { startReceiver, type Received } from '../../tests/receiver.js';
import { backendToken, call, cercleDeSoins, OPERATOR, operatorToken, opposition, placePractitioner, putAs } from '../../tests/smart.js';

const BP = 'http://hl7.org/fhir/uv/subscriptions-backport/StructureDefinition/';
const TOPIC = 'https://fhir.maillage.fr/SubscriptionTopic/';

interface Param {
  name: string;
  valueString?: string;
  valueCode?: string;
  valueReference?: { reference: string };
  part?: Param[];
}
/** The status of a notification Bundle (its first entry), as name → value, and its events. */
function statusOf(bundle: any) {
  expect(bundle).toMatchObject({ resourceType: 'Bundle', type: 'history' });
  const status = bundle.entry[0].resource;
  expect(status.resourceType).toBe('Parameters');
  expect(status.meta.profile).toEqual([`${BP}backport-subscription-status-r4`]);
  const get = (name: string) => {
    const p = status.parameter.find((x: Param) => x.name === name);
    return p?.valueString ?? p?.valueCode ?? p?.valueReference?.reference;
  };
  const events = status.parameter
    .filter((p: Param) => p.name === 'notification-event')
    .map((p: Param) => ({
      number: p.part?.find((x) => x.name === 'event-number')?.valueString,
      focus: p.part?.find((x) => x.name === 'focus')?.valueReference?.reference,
    }));
  return { type: get('type'), status: get('status'), since: get('events-since-subscription-start'), subscription: get('subscription'), events };
}
const bundles = (received: Received[], path: string) => received.filter((r) => r.url === path).map((r) => JSON.parse(r.body));
async function until<T>(what: () => T | undefined | false, ms = 10_000): Promise<T> {
  const start = Date.now();
  for (;;) {
    const v = what();
    if (v) return v;
    if (Date.now() - start > ms) throw new Error('waited in vain');
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** Reads the Subscription until its status is `status`; returns it. */
async function statusBecomes(read: () => Promise<{ body: any }>, status: string) {
  const start = Date.now();
  for (;;) {
    const { body } = await read();
    if (body.status === status) return body;
    if (Date.now() - start > 10_000) throw new Error(`still ${body.status}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * The IG's example (Subscription "subscription-admission", R4 Backport 1.1.0), as its page shows
 * it, but for its endpoint (a receiver of ours) and its heartbeat period (a second, to hear one).
 */
const igAdmission = (endpoint: string) => ({
  resourceType: 'Subscription',
  meta: { profile: [`${BP}backport-subscription`] },
  status: 'requested',
  end: '2099-12-31T12:00:00Z',
  reason: 'Example Backported Subscription for Patient Admission',
  criteria: 'http://hl7.org/SubscriptionTopic/admission',
  _criteria: { extension: [{ url: `${BP}backport-filter-criteria`, valueString: 'Encounter?patient=Patient/123' }] },
  channel: {
    extension: [
      { url: `${BP}backport-heartbeat-period`, valueUnsignedInt: 1 },
      { url: `${BP}backport-timeout`, valueUnsignedInt: 60 },
      { url: `${BP}backport-max-count`, valuePositiveInt: 20 },
    ],
    type: 'rest-hook',
    endpoint,
    payload: 'application/fhir+json',
    _payload: { extension: [{ url: `${BP}backport-payload-content`, valueCode: 'id-only' }] },
    header: ['Authorization: Bearer secret-token-abc-123'],
  },
});
const stay = (id: string, patient: string, status: string) => ({
  resourceType: 'Encounter',
  id,
  status,
  class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'IMP' },
  subject: { reference: `Patient/${patient}` },
});

describe.each(DATABASES)('topic-based subscriptions (R4 Backport IG) on %s', (kind) => {
  const ctx = useServer(kind, { timeEventsSeconds: 1 });
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  beforeAll(async () => {
    receiver = await startReceiver();
  });
  afterAll(() => receiver?.close());

  it('lists its topics in /metadata and serves them as Basic resources (R4 has no SubscriptionTopic)', async () => {
    const metadata = await ctx.api.get('metadata');
    const sub = metadata.body.rest[0].resource.find((r: { type: string }) => r.type === 'Subscription');
    const topics = sub.extension
      .filter((e: { url: string }) => e.url === `${BP}capabilitystatement-subscriptiontopic-canonical`)
      .map((e: any) => e.valueCanonical);
    expect(topics).toContain(`${TOPIC}discharge`);
    expect(topics).toHaveLength(10);
    expect(sub.operation.map((o: { name: string }) => o.name)).toEqual(expect.arrayContaining(['status', 'events', 'get-ws-binding-token']));
    const catalog = await ctx.api.get('SubscriptionTopic');
    expect(catalog.body).toMatchObject({ resourceType: 'Bundle', type: 'searchset', total: 10 });
    const discharge = await ctx.api.get('SubscriptionTopic/discharge');
    expect(discharge.body).toMatchObject({ resourceType: 'Basic', code: { coding: [{ code: 'SubscriptionTopic' }] } });
    const ext = (url: string) => discharge.body.extension.filter((e: { url: string }) => e.url.endsWith(url));
    expect(ext('SubscriptionTopic.url')[0].valueUri).toBe(`${TOPIC}discharge`);
    expect(ext('SubscriptionTopic.canFilterBy').map((f: any) => f.extension.find((x: any) => x.url === 'filterParameter').valueString)).toEqual([
      'patient',
      'service-provider',
    ]);
    expect((await ctx.api.get(`SubscriptionTopic?url=${encodeURIComponent('http://hl7.org/SubscriptionTopic/admission')}`)).body.entry[0].resource.id).toBe(
      'admission',
    );
    expect((await ctx.api.get('SubscriptionTopic/nothing')).status).toBe(404);
  });

  it('refuses a topic it does not know, a filter it cannot apply, a channel it cannot carry: 400 naming why', async () => {
    const base = igAdmission(`${receiver.url}/refused`);
    for (const [body, why] of [
      [{ ...base, criteria: 'http://example.org/SubscriptionTopic/nothing' }, /no topic/],
      [{ ...base, _criteria: { extension: [{ url: `${BP}backport-filter-criteria`, valueString: 'Encounter?code=x' }] } }, /filters by patient/],
      [{ ...base, channel: { type: 'message', endpoint: 'https://example.org/m' } }, /rest-hook, websocket, email/],
      [
        { ...base, channel: { ...base.channel, _payload: { extension: [{ url: `${BP}backport-payload-content`, valueCode: 'everything' }] } } },
        /payload-content/,
      ],
      [
        { ...base, channel: { type: 'websocket', _payload: { extension: [{ url: `${BP}backport-payload-content`, valueCode: 'full-resource' }] } } },
        /websocket/,
      ],
    ] as const) {
      const res = await ctx.api.post('Subscription', body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(JSON.stringify(res.body.issue)).toMatch(why);
    }
  });

  it('behaves as the IG’s pages say: handshake, events numbered without gaps, heartbeat, $status, $events, deletes', async () => {
    const { api } = ctx;
    const created = await api.post('Subscription', igAdmission(`${receiver.url}/admission`));
    expect(created.status).toBe(201);
    expect(created.body.status).toBe('requested');
    const id = created.body.id;
    // The handshake, as the IG's r4-notification-handshake: status requested, no event yet.
    const [handshake] = await until(() => bundles(receiver.received, '/admission').length > 0 && bundles(receiver.received, '/admission'));
    expect(handshake.meta.profile).toEqual([`${BP}backport-subscription-notification-r4`]);
    expect(handshake.entry[0].request).toEqual({ method: 'GET', url: `${ctx.server.base}/Subscription/${id}/$status` });
    expect(statusOf(handshake)).toMatchObject({ type: 'handshake', status: 'requested', since: '0', subscription: `${ctx.server.base}/Subscription/${id}` });
    expect(receiver.received.find((r) => r.url === '/admission')?.headers.authorization).toBe('Bearer secret-token-abc-123');
    await statusBecomes(() => api.get(`Subscription/${id}`), 'active');

    await api.put('Encounter/adm-1', stay('adm-1', '123', 'in-progress'));
    await api.put('Encounter/adm-other', stay('adm-other', '999', 'in-progress'));
    await api.put('Encounter/adm-1', { ...stay('adm-1', '123', 'in-progress'), reasonCode: [{ text: 'no new event' }] });
    await api.put('Encounter/adm-2', stay('adm-2', '123', 'arrived'));
    const events = () => bundles(receiver.received, '/admission').filter((b) => statusOf(b).type === 'event-notification');
    await until(() => events().length >= 2);
    const [first, second] = events();
    expect(statusOf(first)).toMatchObject({ status: 'active', since: '1', events: [{ number: '1', focus: `${ctx.server.base}/Encounter/adm-1` }] });
    expect(first.entry.slice(1)).toEqual([{ fullUrl: `${ctx.server.base}/Encounter/adm-1`, request: { method: 'POST', url: 'Encounter' } }]);
    expect(statusOf(second)).toMatchObject({ since: '2', events: [{ number: '2', focus: `${ctx.server.base}/Encounter/adm-2` }] });
    expect(JSON.stringify(receiver.received)).not.toContain('adm-other');

    // Nothing else happens: a heartbeat, counting the events so far (the IG's r4-notification-heartbeat).
    const heartbeat = await until(() => bundles(receiver.received, '/admission').find((b) => statusOf(b).type === 'heartbeat' && statusOf(b).since === '2'));
    expect(statusOf(heartbeat)).toMatchObject({ status: 'active', events: [] });

    const statuses = await api.get(`Subscription/${id}/$status`);
    expect(statuses.status).toBe(200);
    expect(statuses.body).toMatchObject({ resourceType: 'Bundle', type: 'searchset', total: 1 });
    expect(statusOf({ resourceType: 'Bundle', type: 'history', entry: statuses.body.entry })).toMatchObject({
      type: 'query-status',
      status: 'active',
      since: '2',
    });
    const all = await api.get('Subscription/$status');
    expect(all.body.entry.length).toBeGreaterThanOrEqual(1);

    const replay = await api.get(`Subscription/${id}/$events?eventsSinceNumber=2&eventsUntilNumber=2`);
    expect(replay.status).toBe(200);
    expect(statusOf(replay.body)).toMatchObject({ type: 'query-event', since: '2', events: [{ number: '2', focus: `${ctx.server.base}/Encounter/adm-2` }] });
    const full = await api.get(`Subscription/${id}/$events?content=full-resource`);
    expect(full.body.entry.slice(1).map((e: any) => e.resource?.id)).toEqual(['adm-1', 'adm-2']);
    expect((await api.get(`Subscription/${id}/$events?eventsSinceNumber=x`)).status).toBe(400);

    // A delete of an admitted stay is an event: which resource, and that it went; nothing of it.
    expect((await api.delete('Encounter/adm-2')).status).toBeLessThan(300);
    const deleted = await until(() => events()[2]);
    expect(statusOf(deleted)).toMatchObject({ since: '3', events: [{ number: '3' }] });
    expect(deleted.entry[1]).toEqual({ fullUrl: `${ctx.server.base}/Encounter/adm-2`, request: { method: 'DELETE', url: 'Encounter/adm-2' } });

    // A classic subscription is not topic-based: no $status for it.
    const classic = await api.post('Subscription', {
      resourceType: 'Subscription',
      status: 'requested',
      reason: 'r',
      criteria: 'Encounter?status=finished',
      channel: { type: 'websocket' },
    });
    expect((await api.get(`Subscription/${classic.body.id}/$status`)).status).toBe(400);
    expect((await api.get('Subscription/nobody/$events')).status).toBe(404);
    await api.delete(`Subscription/${id}`);
  });

  it('a handshake that is not answered puts the subscription in error with the reason', async () => {
    const created = await ctx.api.post('Subscription', {
      ...igAdmission('http://127.0.0.1:9/hook'),
      channel: { type: 'rest-hook', endpoint: 'http://127.0.0.1:9/hook' },
    });
    expect(created.status).toBe(201);
    const body = await statusBecomes(() => ctx.api.get(`Subscription/${created.body.id}`), 'error');
    expect(body.error).toMatch(/handshake failed/);
  });

  it('speaks on a websocket: the handshake when bound, then each notification Bundle', async () => {
    const { api } = ctx;
    const created = await api.post('Subscription', {
      resourceType: 'Subscription',
      status: 'requested',
      reason: 'mes tâches',
      criteria: `${TOPIC}task-owner`,
      _criteria: { extension: [{ url: `${BP}backport-filter-criteria`, valueString: 'owner=PractitionerRole/ide' }] },
      channel: { type: 'websocket', payload: 'application/fhir+json' },
    });
    expect(created.status).toBe(201);
    expect(created.body.status).toBe('active');
    const token = await api.post(`Subscription/${created.body.id}/$get-ws-binding-token`, { resourceType: 'Parameters' });
    const param = (name: string) => token.body.parameter.find((p: { name: string }) => p.name === name);
    const ws = new WebSocket(param('websocket-url').valueUrl);
    const heard: string[] = [];
    ws.on('message', (m) => heard.push(m.toString()));
    await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
    ws.send(JSON.stringify({ type: 'bind-with-token', payload: { token: param('token').valueString } }));
    const json = () => heard.filter((m) => m.startsWith('{')).map((m) => JSON.parse(m));
    const [hs] = await until(() => json().length > 0 && json());
    expect(statusOf(hs)).toMatchObject({ type: 'handshake', status: 'active', since: '0' });
    await api.put('Task/t-other', { resourceType: 'Task', id: 't-other', status: 'requested', intent: 'order', owner: { reference: 'PractitionerRole/kine' } });
    await api.put('Task/t-ide', { resourceType: 'Task', id: 't-ide', status: 'requested', intent: 'order', owner: { reference: 'PractitionerRole/ide' } });
    const event = await until(() => json().find((b) => statusOf(b).type === 'event-notification'));
    expect(statusOf(event)).toMatchObject({ since: '1', events: [{ number: '1', focus: `${ctx.server.base}/Task/t-ide` }] });
    expect(heard.join()).not.toContain('t-other');
    ws.close();
  });

  it('raises a Task past its due date and a care plan activity falling due once each, as events of their topics', async () => {
    const { api } = ctx;
    for (const code of ['task-overdue', 'care-plan-activity-due']) {
      const res = await api.post('Subscription', {
        resourceType: 'Subscription',
        status: 'requested',
        reason: code,
        criteria: `${TOPIC}${code}`,
        _criteria: { extension: [{ url: `${BP}backport-filter-criteria`, valueString: 'patient=Patient/due' }] },
        channel: { type: 'rest-hook', endpoint: `${receiver.url}/${code}`, payload: 'application/fhir+json' },
      });
      expect(res.status).toBe(201);
      await until(() => receiver.received.some((r) => r.url === `/${code}`));
    }
    const soon = new Date(Date.now() + 2 * 86_400_000).toISOString().slice(0, 10);
    const far = new Date(Date.now() + 40 * 86_400_000).toISOString().slice(0, 10);
    await api.put('Task/late', {
      resourceType: 'Task',
      id: 'late',
      status: 'in-progress',
      intent: 'order',
      for: { reference: 'Patient/due' },
      restriction: { period: { end: '2020-01-01' } },
    });
    await api.put('Task/late-done', {
      resourceType: 'Task',
      id: 'late-done',
      status: 'completed',
      intent: 'order',
      for: { reference: 'Patient/due' },
      restriction: { period: { end: '2020-01-01' } },
    });
    await api.put('Task/not-yet', {
      resourceType: 'Task',
      id: 'not-yet',
      status: 'requested',
      intent: 'order',
      for: { reference: 'Patient/due' },
      restriction: { period: { end: far } },
    });
    await api.put('CarePlan/ppcs-due', {
      resourceType: 'CarePlan',
      id: 'ppcs-due',
      status: 'active',
      intent: 'plan',
      subject: { reference: 'Patient/due' },
      activity: [
        { detail: { status: 'scheduled', description: 'Bilan kiné', scheduledPeriod: { start: soon } } },
        { detail: { status: 'scheduled', description: 'Réévaluation', scheduledPeriod: { start: far } } },
      ],
    });
    const events = (code: string) => bundles(receiver.received, `/${code}`).filter((b) => statusOf(b).type === 'event-notification');
    await until(() => events('task-overdue').length && events('care-plan-activity-due').length);
    // Several scans later, still once each.
    await new Promise((r) => setTimeout(r, 2500));
    expect(events('task-overdue').map((b) => statusOf(b).events)).toEqual([[{ number: '1', focus: `${ctx.server.base}/Task/late` }]]);
    expect(events('care-plan-activity-due').map((b) => statusOf(b).events)).toEqual([[{ number: '1', focus: `${ctx.server.base}/CarePlan/ppcs-due` }]]);
    const raised = await ctx.server.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM time_event_raised`);
    expect(raised[0].n).toBe(2);
  });
});

describe.each(DATABASES)('my patients’ discharges, for a vendor, on %s', (kind) => {
  const SYSTEM = { id: 'lgc-cabinet-topics', org: 'cabinet' };
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
  const careTeam = (p: string, end?: string) => cercleDeSoins(p, 'role-gp', end);
  beforeAll(async () => {
    receiver = await startReceiver();
    operator = await operatorToken(t.server.url);
    await put(operator, { resourceType: 'Organization', id: 'cabinet', name: 'Cabinet' });
    await placePractitioner(t.server.url, operator, 'gp', 'cabinet');
    for (const p of ['mine', 'other', 'mine2', 'mine3']) await put(operator, { resourceType: 'Patient', id: p, name: [{ family: p }] });
    for (const p of ['mine', 'mine2', 'mine3']) await put(operator, careTeam(p));
    system = await backendToken(t.server.url, SYSTEM.id);
  });
  afterAll(() => receiver?.close());

  it('hears only its équipe’s discharges, stops at once at an opposition or an ended membership, numbers what it hears without gaps', async () => {
    const created = await call('POST', fhir('Subscription'), system, {
      resourceType: 'Subscription',
      status: 'requested',
      reason: 'my patients’ discharges',
      criteria: `${TOPIC}discharge`,
      channel: {
        type: 'rest-hook',
        endpoint: `${receiver.url}/lgc`,
        payload: 'application/fhir+json',
        _payload: { extension: [{ url: `${BP}backport-payload-content`, valueCode: 'full-resource' }] },
      },
    });
    expect(created.status).toBe(201);
    const id = created.body.id;
    await until(() => receiver.received.length > 0);
    const events = () => bundles(receiver.received, '/lgc').filter((b) => statusOf(b).type === 'event-notification');
    await statusBecomes(() => call('GET', fhir(`Subscription/${id}`), system), 'active');
    await put(operator, stay('sej-other', 'other', 'in-progress'));
    await put(operator, stay('sej-other', 'other', 'finished'));
    await put(operator, stay('sej-mine', 'mine', 'in-progress'));
    await put(operator, stay('sej-mine', 'mine', 'finished'));
    const [first] = await until(() => events().length > 0 && events());
    expect(statusOf(first)).toMatchObject({ since: '1', events: [{ number: '1', focus: fhir('Encounter/sej-mine') }] });
    expect(first.entry[1].resource).toMatchObject({ resourceType: 'Encounter', id: 'sej-mine', status: 'finished' });

    // She opposes sharing: her next discharge is not heard, at once.
    await put(operator, opposition('opp-mine-topics', 'mine'));
    await put(operator, stay('sej-mine-2', 'mine', 'finished'));
    // The GP leaves mine2's cercle de soins after one discharge: the next is not heard.
    await put(operator, stay('sej-mine2', 'mine2', 'finished'));
    await until(() => events().length >= 2);
    await put(operator, careTeam('mine2', '2021-01-01'));
    await put(operator, stay('sej-mine2-b', 'mine2', 'finished'));
    // Delivered in order: once mine3's is heard, mine2's was judged.
    await put(operator, stay('sej-mine3', 'mine3', 'finished'));
    await until(() => events().length >= 3);
    await new Promise((r) => setTimeout(r, 500));
    expect(events().map((b) => statusOf(b).events[0])).toEqual([
      { number: '1', focus: fhir('Encounter/sej-mine') },
      { number: '2', focus: fhir('Encounter/sej-mine2') },
      { number: '3', focus: fhir('Encounter/sej-mine3') },
    ]);
    const sent = JSON.stringify(receiver.received);
    for (const unseen of ['sej-other', 'sej-mine-2', 'sej-mine2-b']) expect(sent).not.toContain(unseen);

    // $events replays as the subscriber may see now: her discharge no longer.
    const replay = await call('GET', fhir(`Subscription/${id}/$events`), system);
    expect(replay.status).toBe(200);
    // (and mine2's, out of the GP's équipe since).
    expect(statusOf(replay.body).events.map((e: { number: string }) => e.number)).toEqual(['3']);
    // Someone else's subscription: its status and events are theirs (and an administrator's, who may read it).
    const stranger = await backendToken(t.server.url, 'lgc-stranger-topics');
    for (const op of ['$status', '$events']) expect((await call('GET', fhir(`Subscription/${id}/${op}`), stranger)).status, op).toBe(403);
    expect((await call('GET', fhir('Subscription/$status'), stranger)).body.total).toBe(0);
    expect((await call('GET', fhir(`Subscription/${id}/$status`), operator)).status).toBe(200);
    expect((await call('GET', fhir('Subscription/$status'), operator)).body.total).toBe(1);
  });
});
