import { SignJWT, generateKeyPair } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DATABASES, freshPostgresDatabase, startTestServer, TEST_KEY_ENCRYPTION_KEY, useServer, type TestServer } from '../../tests/harness.js';
import { KeyEncryption, parseKey } from './key-encryption.js';
import { KeyStore } from './keys.js';

const CLIENT = { bootstrapClientId: 'vendor-backend', bootstrapClientSecret: 'a-test-secret-not-for-production' };

async function token(origin: string, form: Record<string, string>, basic?: [string, string]) {
  const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded' };
  if (basic) headers.authorization = `Basic ${Buffer.from(basic.join(':')).toString('base64')}`;
  const res = await fetch(`${origin}/auth/token`, { method: 'POST', headers, body: new URLSearchParams(form) });
  return { status: res.status, headers: res.headers, body: (await res.json()) as Record<string, string> };
}

const bearer = (t: string) => ({ authorization: `Bearer ${t}` });

describe.each(DATABASES)('authorization on %s', (kind) => {
  const t = useServer(kind, { auth: true, ...CLIENT });
  const origin = () => t.server.url;
  const systemToken = async (scope?: string) =>
    (await token(origin(), { grant_type: 'client_credentials', ...(scope ? { scope } : {}) }, [CLIENT.bootstrapClientId, CLIENT.bootstrapClientSecret])).body
      .access_token;

  it('refuses the FHIR API without a token (401 OperationOutcome), but serves metadata and discovery', async () => {
    const res = await t.api.get('Patient');
    expect(res.status).toBe(401);
    expect(res.body.resourceType).toBe('OperationOutcome');
    expect(res.headers.get('www-authenticate')).toMatch(/^Bearer/);
    const meta = await t.api.get('metadata');
    expect(meta.status).toBe(200);
    const oauth = meta.body.rest[0].security.extension[0];
    expect(oauth.extension).toContainEqual({ url: 'token', valueUri: `${origin()}/auth/token` });
    const smart = await t.api.get('.well-known/smart-configuration');
    expect(smart.body.token_endpoint).toBe(`${origin()}/auth/token`);
    expect(smart.body.code_challenge_methods_supported).toEqual(['S256']);
  });

  it('issues a token to the bootstrap client (basic and post), not cached, that opens the API', async () => {
    const basic = await token(origin(), { grant_type: 'client_credentials' }, [CLIENT.bootstrapClientId, CLIENT.bootstrapClientSecret]);
    expect(basic.status).toBe(200);
    expect(basic.headers.get('cache-control')).toBe('no-store');
    expect(basic.body).toMatchObject({ token_type: 'Bearer', expires_in: 3600, scope: 'system/*.cruds' });
    const post = await token(origin(), { grant_type: 'client_credentials', client_id: CLIENT.bootstrapClientId, client_secret: CLIENT.bootstrapClientSecret });
    expect(post.status).toBe(200);
    const created = await t.api.post('Patient', { resourceType: 'Patient' }, bearer(basic.body.access_token));
    expect(created.status).toBe(201);
    expect((await t.api.get(`Patient/${created.body.id}`, bearer(post.body.access_token))).status).toBe(200);
  });

  it('refuses wrong secrets, unknown grants and scopes beyond the client', async () => {
    expect((await token(origin(), { grant_type: 'client_credentials' }, [CLIENT.bootstrapClientId, 'wrong'])).body.error).toBe('invalid_client');
    expect((await token(origin(), { grant_type: 'client_credentials' }, ['nobody', 'x'])).status).toBe(401);
    expect((await token(origin(), { grant_type: 'password' }, [CLIENT.bootstrapClientId, CLIENT.bootstrapClientSecret])).body.error).toBe(
      'unsupported_grant_type',
    );
    const escalate = await token(origin(), { grant_type: 'client_credentials', scope: 'user/*.cruds' }, [
      CLIENT.bootstrapClientId,
      CLIENT.bootstrapClientSecret,
    ]);
    expect(escalate.status).toBe(400);
    expect(escalate.body.error).toBe('invalid_scope');
  });

  it('enforces the granted scopes on every interaction', async () => {
    const readPatients = await systemToken('system/Patient.rs');
    const writer = await systemToken();
    const { body } = await t.api.post('Patient', { resourceType: 'Patient' }, bearer(writer));
    expect((await t.api.get(`Patient/${body.id}`, bearer(readPatients))).status).toBe(200);
    expect((await t.api.get('Patient?_count=1', bearer(readPatients))).status).toBe(200);
    expect((await t.api.post('Patient', { resourceType: 'Patient' }, bearer(readPatients))).status).toBe(403);
    expect((await t.api.delete(`Patient/${body.id}`, bearer(readPatients))).status).toBe(403);
    expect((await t.api.get('Observation?_count=1', bearer(readPatients))).status).toBe(403);
    expect((await t.api.get('_history', bearer(readPatients))).status).toBe(403);
    const v1 = await systemToken('system/Patient.read');
    expect((await t.api.get(`Patient/${body.id}/_history`, bearer(v1))).status).toBe(200);
    expect((await t.api.patch(`Patient/${body.id}`, [{ op: 'add', path: '/active', value: true }], bearer(v1))).status).toBe(403);
  });

  it('confines filtered scopes (?param=value) on searches, reads, includes and writes', async () => {
    const writer = await systemToken();
    const patient = (await t.api.post('Patient', { resourceType: 'Patient' }, bearer(writer))).body.id;
    const observation = (category: string) => ({
      resourceType: 'Observation',
      status: 'final',
      category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: category }] }],
      code: { text: category },
      subject: { reference: `Patient/${patient}` },
    });
    const lab = (await t.api.post('Observation', observation('laboratory'), bearer(writer))).body.id;
    const vital = (await t.api.post('Observation', observation('vital-signs'), bearer(writer))).body.id;
    const ids = async (path: string, tok: string) => (await t.api.get(path, bearer(tok))).body.entry?.map((e: any) => e.resource.id).sort();

    const labOnly = await systemToken('system/Patient.rs system/Observation.rs?category=laboratory');
    expect(await ids(`Observation?subject=Patient/${patient}`, labOnly)).toEqual([lab]);
    expect((await t.api.get(`Observation/${lab}`, bearer(labOnly))).status).toBe(200);
    expect((await t.api.get(`Observation/${vital}`, bearer(labOnly))).status).toBe(403);
    expect((await t.api.get(`Observation/${vital}/_history/1`, bearer(labOnly))).status).toBe(403);
    expect((await t.api.get('Observation/_history', bearer(labOnly))).status).toBe(403);
    expect(await ids(`Patient?_id=${patient}&_revinclude=Observation:subject`, labOnly)).toEqual([lab, patient].sort());
    expect(
      await ids(`Observation?_id=${lab},${vital}`, await systemToken('system/Observation.rs?category=laboratory system/Observation.rs?category=vital-signs')),
    ).toEqual([lab, vital].sort());
    const mixed = await systemToken('system/Observation.rs?category=laboratory system/Observation.rs?status=final');
    expect((await t.api.get('Observation', bearer(mixed))).status).toBe(403);
    expect((await t.api.get(`Observation/${vital}`, bearer(mixed))).status).toBe(200);
    expect((await t.api.get('Observation', bearer(await systemToken('system/Observation.rs?no-such-param=1')))).status).toBe(403);

    const labWriter = await systemToken('system/Observation.cruds?category=laboratory');
    expect((await t.api.post('Observation', observation('vital-signs'), bearer(labWriter))).status).toBe(403);
    expect(await ids(`Observation?subject=Patient/${patient}`, writer)).toEqual([lab, vital].sort());
    const created = await t.api.post('Observation', observation('laboratory'), bearer(labWriter));
    expect(created.status).toBe(201);
    expect((await t.api.put(`Observation/${created.body.id}`, { ...observation('vital-signs'), id: created.body.id }, bearer(labWriter))).status).toBe(403);
    expect((await t.api.get(`Observation/${created.body.id}`, bearer(writer))).body.meta.versionId).toBe('1');
    expect((await t.api.delete(`Observation/${vital}`, bearer(labWriter))).status).toBe(403);
    expect((await t.api.delete(`Observation/${created.body.id}`, bearer(labWriter))).status).toBe(200);
  });

  it('rejects tampered, unsigned, foreign, expired and wrong-audience tokens', async () => {
    const good = await systemToken();
    const [h, p, s] = good.split('.');
    const payload = JSON.parse(Buffer.from(p, 'base64url').toString());
    const forged = Buffer.from(JSON.stringify({ ...payload, scope: 'system/*.cruds user/*.cruds' })).toString('base64url');
    const none = Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url');
    const keys = new KeyStore(t.server.db, new KeyEncryption([parseKey(TEST_KEY_ENCRYPTION_KEY)]));
    await keys.init();
    const own = keys.signingKey();
    const sign = (claims: Record<string, unknown>, aud: string, exp: number | string, key = own.key, kid = own.kid) =>
      new SignJWT(claims)
        .setProtectedHeader({ alg: 'RS256', kid, typ: 'at+jwt' })
        .setIssuer(`${origin()}/auth`)
        .setAudience(aud)
        .setSubject('x')
        .setJti(crypto.randomUUID())
        .setExpirationTime(exp)
        .sign(key);
    const foreign = (await generateKeyPair('RS256')).privateKey;
    const bad = [
      `${h}.${forged}.${s}`,
      `${none}.${p}.`,
      'not-a-jwt',
      await sign({ scope: 'system/*.cruds' }, t.server.base, Math.floor(Date.now() / 1000) - 60),
      await sign({ scope: 'system/*.cruds' }, 'https://another-server.example/fhir', '1h'),
      await sign({ scope: 'system/*.cruds' }, t.server.base, '1h', foreign),
    ];
    for (const tok of bad) {
      const res = await t.api.get('Patient?_count=1', bearer(tok));
      expect(res.status, tok.slice(0, 40)).toBe(401);
      expect(res.body.resourceType).toBe('OperationOutcome');
    }
    expect((await t.api.get('Patient?_count=1', bearer(await sign({ scope: 'system/*.rs', client_id: 'x' }, t.server.base, '1h')))).status).toBe(200);
    // A token verified once (and kept verified) is refused all the same once it expires.
    const shortLived = await sign({ scope: 'system/*.rs', client_id: 'x' }, t.server.base, Math.floor(Date.now() / 1000) + 2);
    expect((await t.api.get('Patient?_count=1', bearer(shortLived))).status).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, 2100));
    expect((await t.api.get('Patient?_count=1', bearer(shortLived))).status).toBe(401);
  });
});

describe.runIf(process.env.TEST_DATABASE_URL)('tokens across server processes on one PostgreSQL', () => {
  const servers: TestServer[] = [];
  let drop: () => Promise<void>;
  beforeAll(async () => {
    const database = await freshPostgresDatabase('loaded');
    drop = database.drop;
    servers.push(await startTestServer('pglite', { auth: true, databaseUrl: database.url, ...CLIENT }));
    // Behind a load balancer every process has the same public base URL.
    servers.push(await startTestServer('pglite', { auth: true, databaseUrl: database.url, origin: servers[0].url, ...CLIENT }));
  });
  afterAll(async () => {
    for (const s of servers) await s.close();
    await drop?.();
  });

  it('accepts at one process a token issued by the other (one key set, in the database), and its revocation within a second', async () => {
    const issued = await token(servers[0].url, { grant_type: 'client_credentials' }, [CLIENT.bootstrapClientId, CLIENT.bootstrapClientSecret]);
    const read = () => fetch(`${servers[1].url}/fhir/Patient?_count=1`, { headers: bearer(issued.body.access_token) });
    expect((await read()).status).toBe(200);
    const revoked = await fetch(`${servers[0].url}/auth/revoke`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization: `Basic ${Buffer.from(`${CLIENT.bootstrapClientId}:${CLIENT.bootstrapClientSecret}`).toString('base64')}`,
      },
      body: new URLSearchParams({ token: issued.body.access_token }),
    });
    expect(revoked.status).toBe(200);
    await new Promise((r) => setTimeout(r, 1100));
    expect((await read()).status).toBe(401);
  });
});
