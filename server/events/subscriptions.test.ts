import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Config } from '../config.js';
import { DEFAULT_LIMITS } from '../limits.js';
import { DATABASES, useServer } from '../../tests/harness.js';
import { startReceiver } from '../../tests/receiver.js';
import { useSmtp } from '../../tests/smtp.js';
import { backendToken, call, cercleDeSoins, OPERATOR, operatorToken, opposition, placePractitioner, postForm, putAs, registerApp } from '../../tests/smart.js';

const encounter = (id: string, patient: string, status = 'finished') => ({
  resourceType: 'Encounter',
  id,
  status,
  class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'IMP' },
  subject: { reference: `Patient/${patient}` },
});
const subscription = (endpoint: string, extra: Record<string, unknown> = {}) => ({
  resourceType: 'Subscription',
  status: 'requested',
  reason: 'sorties',
  criteria: 'Encounter?status=finished',
  channel: { type: 'rest-hook', endpoint, payload: 'application/fhir+json', header: ['Authorization: Bearer hook-secret'] },
  ...extra,
});

describe.each(DATABASES)('R4 rest-hook subscriptions on %s', (kind) => {
  const ctx = useServer(kind);
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  beforeAll(async () => {
    receiver = await startReceiver();
  });
  afterAll(() => receiver?.close());

  it('refuses what it could not deliver safely or match: 400 naming why', async () => {
    const { api } = ctx;
    for (const [body, why] of [
      [subscription('http://example.org/hook'), /https/],
      [subscription('https://169.254.169.254/latest'), /link-local/],
      [subscription('http://[fe80::1]/hook'), /link-local|https/],
      [subscription(`${receiver.url}/hook`, { criteria: 'Nothing?status=x' }), /resource type/],
      [subscription(`${receiver.url}/hook`, { criteria: 'Encounter?no-such-param=1' }), /no-such-param/],
      [subscription(`${receiver.url}/hook`, { channel: { type: 'sms', endpoint: 'tel:+33600000000' } }), /channel.type/],
    ] as const) {
      const res = await api.post('Subscription', body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(JSON.stringify(res.body.issue)).toMatch(why);
    }
  });

  it('activates a subscription and PUTs each matching resource, in order, with its headers', async () => {
    const { api } = ctx;
    const created = await api.post('Subscription', subscription(`${receiver.url}/hook`));
    expect(created.status).toBe(201);
    expect(created.body.status).toBe('active');
    const start = receiver.received.length;
    expect((await api.put('Encounter/e0', encounter('e0', 'p', 'in-progress'))).status).toBe(201);
    for (let i = 1; i <= 5; i++) expect((await api.put(`Encounter/e${i}`, encounter(`e${i}`, 'p'))).status).toBe(201);
    const got = (await receiver.waitFor(start + 5)).slice(start);
    expect(got.map((r) => [r.method, r.url])).toEqual([1, 2, 3, 4, 5].map((i) => ['PUT', `/hook/Encounter/e${i}`]));
    expect(got[0].headers.authorization).toBe('Bearer hook-secret');
    expect(got[0].headers['content-type']).toBe('application/fhir+json');
    expect(JSON.parse(got[0].body)).toMatchObject({ resourceType: 'Encounter', id: 'e1', status: 'finished' });
    // e0 never matched: nothing was sent about it.
    expect(receiver.received.some((r) => r.url.includes('/e0'))).toBe(false);
    await api.delete(`Subscription/${created.body.id}`);
  });

  it('queues a change for a subscription confined to patients only when the change concerns one of them', async () => {
    const { api } = ctx;
    const created = await api.post('Subscription', subscription(`${receiver.url}/confined`, { criteria: 'Encounter?status=finished&patient=pa,pc' }));
    expect(created.status).toBe(201);
    const start = receiver.received.length;
    for (const [id, p] of [
      ['pb1', 'pb'],
      ['pa1', 'pa'],
      ['pc1', 'pc'],
    ])
      expect((await api.put(`Encounter/${id}`, encounter(id, p))).status).toBe(201);
    const got = (await receiver.waitFor(start + 2)).slice(start);
    expect(got.map((r) => r.url)).toEqual(['/confined/Encounter/pa1', '/confined/Encounter/pc1']);
    // The other patient's discharge was not even queued for it: a write costs it nothing.
    const queued = await ctx.server.db.query<{ id: string }>(`SELECT id FROM subscription_event WHERE subscription = $1 ORDER BY number`, [created.body.id]);
    expect(queued.map((r) => r.id)).not.toContain('pb1');
    await api.delete(`Subscription/${created.body.id}`);
  });

  it('retries a receiver that fails, then delivers everything in order; one that keeps failing puts the subscription in error', async () => {
    const { api } = ctx;
    const created = await api.post('Subscription', subscription(`${receiver.url}/retry`, { criteria: 'Encounter?status=finished&subject=Patient/r' }));
    const start = receiver.received.length;
    receiver.state.failNext = 2;
    for (let i = 1; i <= 3; i++) await api.put(`Encounter/r${i}`, encounter(`r${i}`, 'r'));
    const got = (await receiver.waitFor(start + 3)).slice(start);
    expect(got.map((r) => r.url)).toEqual(['/retry/Encounter/r1', '/retry/Encounter/r2', '/retry/Encounter/r3']);
    expect(receiver.state.failed).toBe(2);
    await api.delete(`Subscription/${created.body.id}`);

    // Nothing listens on port 9 of the loopback.
    const dead = await api.post('Subscription', subscription('http://127.0.0.1:9/hook', { criteria: 'Encounter?status=finished&subject=Patient/d' }));
    await api.put('Encounter/d1', encounter('d1', 'd'));
    const startWait = Date.now();
    let status = 'active';
    while (status === 'active' && Date.now() - startWait < 10_000) {
      await new Promise((r) => setTimeout(r, 200));
      status = (await api.get(`Subscription/${dead.body.id}`)).body.status;
    }
    const errored = (await api.get(`Subscription/${dead.body.id}`)).body;
    expect(errored.status).toBe('error');
    expect(errored.error).toMatch(/127\.0\.0\.1:9|fetch failed|ECONNREFUSED/);
  });
});

describe.each(DATABASES)('R4 websocket subscriptions on %s', (kind) => {
  const ctx = useServer(kind);
  /** A websocket client that keeps every message it hears. */
  const connect = async () => {
    const ws = new WebSocket(`${ctx.server.url.replace('http', 'ws')}/ws/subscriptions`);
    const heard: string[] = [];
    ws.on('message', (m) => heard.push(m.toString()));
    await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
    const until = async (text: string) => {
      const start = Date.now();
      while (!heard.includes(text)) {
        if (Date.now() - start > 8000) throw new Error(`not heard: ${text} (heard ${heard.join(', ')})`);
        await new Promise((r) => setTimeout(r, 20));
      }
    };
    return { ws, heard, until };
  };

  it('binds by id (R4) or by a $get-ws-binding-token token, and pings each bound socket for each notification', async () => {
    const { api } = ctx;
    const created = await api.post('Subscription', {
      resourceType: 'Subscription',
      status: 'requested',
      reason: 'live',
      criteria: 'Encounter?status=finished&subject=Patient/ws',
      channel: { type: 'websocket' },
    });
    expect(created.status).toBe(201);
    const id = created.body.id;
    const byId = await connect();
    byId.ws.send(`bind ${id}`);
    await byId.until(`bound ${id}`);

    const token = await api.post(`Subscription/${id}/$get-ws-binding-token`, { resourceType: 'Parameters' });
    expect(token.status).toBe(200);
    const param = (name: string) => token.body.parameter.find((p: { name: string }) => p.name === name);
    expect(param('websocket-url').valueUrl).toBe(`${ctx.server.url.replace('http', 'ws')}/ws/subscriptions`);
    const byToken = await connect();
    byToken.ws.send(JSON.stringify({ type: 'bind-with-token', payload: { token: param('token').valueString } }));
    await byToken.until(`bound ${id}`);
    const stranger = await connect();
    stranger.ws.send('bind-with-token not-a-token');
    await stranger.until('error invalid or expired token');

    await api.put('Encounter/ws-1', encounter('ws-1', 'ws'));
    await byId.until(`ping ${id}`);
    await byToken.until(`ping ${id}`);
    expect(stranger.heard.some((m) => m.startsWith('ping'))).toBe(false);
    for (const c of [byId, byToken, stranger]) c.ws.close();
  });

  it('lists the channels and the binding operation in /metadata', async () => {
    const metadata = await ctx.api.get('metadata');
    const sub = metadata.body.rest[0].resource.find((r: { type: string }) => r.type === 'Subscription');
    const channels = sub.extension.filter((e: { url: string }) => e.url.endsWith('/subscription-channel'));
    expect(channels.map((e: { valueCoding: { code: string } }) => e.valueCoding.code)).toEqual(['rest-hook', 'websocket', 'email']);
    expect(sub.operation.map((o: { name: string }) => o.name)).toContain('get-ws-binding-token');
    expect(sub.documentation).toContain('/ws/subscriptions');
  });
});

describe.each(DATABASES)('who hears what, on %s', (kind) => {
  const SYSTEM = { id: 'lgc-cabinet-sub', org: 'cabinet' };
  const t = useServer(kind, {
    auth: true,
    ...OPERATOR,
    accessRules: { recordHolders: [], clientOrganizations: { [SYSTEM.id]: SYSTEM.org }, breakGlassMinutes: 0 },
    limits: { ...DEFAULT_LIMITS, subscriptionsPerOwner: 5 },
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
    await placePractitioner(t.server.url, operator, 'gp', 'cabinet');
    for (const p of ['mine', 'other', 'mine2']) await put(operator, { resourceType: 'Patient', id: p, name: [{ family: p }] });
    for (const p of ['mine', 'mine2']) await put(operator, cercleDeSoins(p, 'role-gp'));
    system = await backendToken(t.server.url, SYSTEM.id);
  });
  afterAll(() => receiver?.close());

  it('notifies only about patients of the subscriber’s équipe, stops at an opposition, and leaves an AuditEvent of each', async () => {
    const idOnly = {
      resourceType: 'Subscription',
      status: 'requested',
      reason: 'my patients’ discharges',
      criteria: 'Encounter?status=finished',
      channel: {
        type: 'rest-hook',
        endpoint: `${receiver.url}/lgc`,
        payload: 'application/fhir+json',
        _payload: { extension: [{ url: 'http://hl7.org/fhir/uv/subscriptions-backport/StructureDefinition/backport-payload-content', valueCode: 'id-only' }] },
      },
    };
    const created = await call('POST', fhir('Subscription'), system, idOnly);
    expect(created.status).toBe(201);
    await put(operator, encounter('enc-other', 'other'));
    await put(operator, encounter('enc-mine', 'mine'));
    const [first] = await receiver.waitFor(1);
    const bundle = JSON.parse(first.body);
    expect(bundle).toMatchObject({ resourceType: 'Bundle', type: 'history' });
    expect(bundle.entry.map((e: { fullUrl: string }) => e.fullUrl)).toEqual([fhir('Encounter/enc-mine')]);
    expect(bundle.entry[0].resource).toBeUndefined();

    // The patient opposes sharing: the next discharge about her is not heard, a later one of another patient is.
    await put(operator, opposition('opp-mine', 'mine'));
    await put(operator, encounter('enc-mine-2', 'mine'));
    await put(operator, encounter('enc-mine2', 'mine2'));
    await receiver.waitFor(2);
    await new Promise((r) => setTimeout(r, 300));
    const urls = receiver.received.map((r) => JSON.parse(r.body).entry[0].fullUrl);
    expect(urls).toEqual([fhir('Encounter/enc-mine'), fhir('Encounter/enc-mine2')]);
    expect(JSON.stringify(receiver.received)).not.toContain('enc-other');
    expect(JSON.stringify(receiver.received)).not.toContain('enc-mine-2');

    // Each delivery and each refusal is a search of the subscriber's, in the audit trail.
    await new Promise((r) => setTimeout(r, 300));
    const trail = await t.server.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM audit_trail WHERE client = $1 AND record::text LIKE '%_id=enc-%'`, [
      SYSTEM.id,
    ]);
    expect(trail[0].n).toBeGreaterThanOrEqual(4);
  });

  it('lets only its owner (or an administrator) see, change or delete a Subscription: no one reads its secrets or points it elsewhere', async () => {
    const mine = {
      resourceType: 'Subscription',
      status: 'requested',
      reason: 'mine',
      criteria: 'Encounter?status=finished',
      channel: { type: 'rest-hook', endpoint: `${receiver.url}/owned`, header: ['Authorization: Bearer s3cret-of-the-owner'] },
    };
    const created = await call('POST', fhir('Subscription'), system, mine);
    expect(created.status).toBe(201);
    const id = created.body.id as string;
    const other = await registerApp(t.server.url, { client_id: 'lgc-other-sub', grant_types: ['client_credentials'], scope: 'system/*.cruds' });
    const intruder = (
      await postForm(`${t.server.url}/auth/token`, { grant_type: 'client_credentials', client_id: 'lgc-other-sub', client_secret: other.client_secret })
    ).body.access_token as string;
    // Nothing of it reaches another client, by any path: read, version, histories, searches.
    const version = created.body.meta.versionId as string;
    const hiddenPaths = [`Subscription/${id}`, `Subscription/${id}/_history/${version}`, `Subscription/${id}/_history`];
    for (const path of hiddenPaths) {
      const res = await call('GET', fhir(path), intruder);
      expect(res.status, path).toBe(403);
      expect(res.body.issue[0].diagnostics).toContain('belongs to another client or user');
    }
    for (const path of ['Subscription', `Subscription?_id=${id}`, 'Subscription/_history', '_history', '?_type=Subscription']) {
      const res = await call('GET', fhir(path), intruder);
      expect(res.status, path).toBe(200);
      expect(JSON.stringify(res.body), path).not.toContain('s3cret');
    }
    expect((await call('GET', fhir(`Subscription?_id=${id}`), system)).body.total).toBe(1);
    expect((await call('GET', fhir(`Subscription/${id}/_history`), system)).body.entry[0].resource.channel.header).toEqual(mine.channel.header);
    expect((await call('GET', fhir(`Subscription/${id}`), operator)).status).toBe(200);
    const elsewhere = { ...created.body, channel: { ...created.body.channel, endpoint: `${receiver.url}/stolen` } };
    const refused = await call('PUT', fhir(`Subscription/${id}`), intruder, elsewhere);
    expect(refused.status).toBe(403);
    expect(refused.body.resourceType).toBe('OperationOutcome');
    expect((await call('DELETE', fhir(`Subscription/${id}`), intruder)).status).toBe(403);
    expect((await call('GET', fhir(`Subscription/${id}`), system)).body.channel.endpoint).toBe(`${receiver.url}/owned`);
    expect((await call('PUT', fhir(`Subscription/${id}`), system, { ...created.body, reason: 'still mine' })).status).toBe(200);
    expect((await call('DELETE', fhir(`Subscription/${id}`), operator)).status).toBe(200);
  });
  it('refuses a client and user more than SUBSCRIPTIONS_PER_OWNER subscriptions (each is matched against every write)', async () => {
    const quota = await backendToken(t.server.url, 'lgc-quota');
    const entries = (n: number) =>
      Array.from({ length: n }, (_, i) => ({ request: { method: 'POST', url: 'Subscription' }, resource: subscription(`${receiver.url}/quota-${i}`) }));
    const mine = async () => (await call('GET', fhir('Subscription?_count=0&_total=accurate'), quota)).body.total;
    const over = await call('POST', fhir(''), quota, { resourceType: 'Bundle', type: 'transaction', entry: entries(6) });
    expect(over.status).toBe(400);
    expect(over.body.issue[0].code).toBe('too-costly');
    expect(over.body.issue[0].diagnostics).toContain('SUBSCRIPTIONS_PER_OWNER');
    expect(await mine()).toBe(0);
    const batch = await call('POST', fhir(''), quota, { resourceType: 'Bundle', type: 'batch', entry: entries(5) });
    expect(batch.body.entry.every((e: any) => e.response.status.startsWith('201'))).toBe(true);
    const one = subscription(`${receiver.url}/quota-one`);
    expect((await call('POST', fhir('Subscription'), quota, one)).status).toBe(400);
    // Another client, and an administrator, are not held up by it; one deleted makes room.
    expect((await call('POST', fhir('Subscription'), system, one)).status).toBe(201);
    expect((await call('POST', fhir('Subscription'), operator, one)).status).toBe(201);
    const first = /Subscription\/([^/]+)/.exec(batch.body.entry[0].response.location)?.[1];
    expect((await call('DELETE', fhir(`Subscription/${first}`), quota)).status).toBe(200);
    expect((await call('POST', fhir('Subscription'), quota, one)).status).toBe(201);
    expect(await mine()).toBe(5);
  });
});

describe.each(DATABASES)('email subscriptions through a real SMTP server, on %s', (kind) => {
  const overrides: Partial<Config> = { mailFrom: 'notifications@maillage.test' };
  const smtp = useSmtp(overrides);
  const ctx = useServer(kind, overrides);

  it('mails the event and a link to the record, without clinical content', async () => {
    const { api } = ctx;
    const created = await api.post('Subscription', {
      resourceType: 'Subscription',
      status: 'requested',
      reason: 'sorties de Mme Durand',
      criteria: 'Encounter?status=finished&subject=Patient/durand',
      channel: { type: 'email', endpoint: 'mailto:coordination@msp.test' },
    });
    expect(created.status).toBe(201);
    expect((await api.post('Subscription', { ...created.body, id: undefined, channel: { type: 'email', endpoint: 'coordination' } })).status).toBe(400);
    await api.put('Encounter/mail-1', { ...encounter('mail-1', 'durand'), reasonCode: [{ text: 'chute, fracture du col' }] });
    await smtp.first();
    expect(smtp.mails).toHaveLength(1);
    expect(smtp.mails[0].to).toEqual(['coordination@msp.test']);
    const { text } = smtp.mails[0];
    expect(text).toContain(`${ctx.server.base}/Encounter/mail-1`);
    expect(text).toMatch(/From: notifications@maillage.test/);
    expect(text).toContain('Encounter');
    expect(text).not.toMatch(/chute|fracture|durand/i);
  });

  it('mails a topic-based subscription its events, numbered, naming the topic only', async () => {
    const { api } = ctx;
    const topic = 'https://fhir.maillage.fr/SubscriptionTopic/discharge';
    const BP = 'http://hl7.org/fhir/uv/subscriptions-backport/StructureDefinition/';
    const filter = { extension: [{ url: `${BP}backport-filter-criteria`, valueString: 'patient=Patient/martin' }] };
    const heartbeat = { extension: [{ url: `${BP}backport-heartbeat-period`, valueUnsignedInt: 60 }] };
    const email = { type: 'email', endpoint: 'mailto:sorties@msp.test' };
    const body = { resourceType: 'Subscription', status: 'requested', reason: 'sorties de M. Martin', criteria: topic, _criteria: filter, channel: email };
    expect((await api.post('Subscription', { ...body, channel: { ...email, ...heartbeat } })).status).toBe(400);
    const created = await api.post('Subscription', body);
    expect(created.status).toBe(201);
    // No handshake by mail: active at once.
    expect(created.body.status).toBe('active');
    const before = smtp.mails.length;
    await api.put('Encounter/mail-2', { ...encounter('mail-2', 'martin'), reasonCode: [{ text: 'chute, fracture du col' }] });
    await api.put('Encounter/mail-3', encounter('mail-3', 'martin'));
    const start = Date.now();
    while (smtp.mails.length < before + 2 && Date.now() - start < 8000) await new Promise((r) => setTimeout(r, 25));
    const sent = smtp.mails.slice(before).map((m) => m.text);
    expect(sent).toHaveLength(2);
    expect(sent[0]).toContain(`${ctx.server.base}/Encounter/mail-2`);
    expect(sent[0]).toMatch(/X-Maillage-Event: 1\b/);
    expect(sent[1]).toMatch(/X-Maillage-Event: 2\b/);
    for (const text of sent) expect(text).not.toMatch(/chute|fracture|martin/i);
  });
});
