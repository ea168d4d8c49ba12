import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeProtectedHeader } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import { useServer } from '../../tests/harness.js';
import {
  APP_REDIRECT,
  call,
  operatorToken,
  OPERATOR,
  PageWalker,
  pkce,
  postForm,
  registerApp,
  seedPractice,
  writeLabGatewayClientsFile,
} from '../../tests/smart.js';

const FILE_SECRET = 'secret-of-the-file-client-for-tests';
const clientsFile = join(mkdtempSync(join(tmpdir(), 'maillage-clients-')), 'clients.json');
writeLabGatewayClientsFile(clientsFile, FILE_SECRET);

const basic = (id: string, secret: string) => ({ authorization: `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}` });

// Administration and configuration; their storage is exercised on both databases by the flow tests.
describe('administration of the authorization server', () => {
  const t = useServer('pglite', { auth: true, ...OPERATOR, clientsFile });
  const origin = () => t.server.url;
  let admin: string;
  beforeAll(async () => {
    admin = await operatorToken(origin());
  });

  it('takes clients from the configuration file and the admin API; only admin tokens administer', async () => {
    const fromFile = await postForm(`${origin()}/auth/token`, { grant_type: 'client_credentials' }, basic('lab-gateway', FILE_SECRET));
    expect(fromFile.body.scope).toBe('system/Observation.cruds');

    const listed = await call('GET', `${origin()}/auth/admin/clients`, admin);
    expect(listed.body.map((c: any) => c.client_id)).toEqual(expect.arrayContaining(['lab-gateway', OPERATOR.bootstrapClientId]));
    expect(JSON.stringify(listed.body)).not.toMatch(/client_secret_sha256|"client_secret"|[0-9a-f]{64}/);

    const registered = await call('POST', `${origin()}/auth/admin/clients`, admin, {
      client_id: 'vendor-x',
      grant_types: ['client_credentials'],
      scope: 'system/Patient.rs',
    });
    expect(registered.status).toBe(201);
    const secret = registered.body.client_secret as string;
    expect(secret.length).toBeGreaterThan(30);
    expect((await postForm(`${origin()}/auth/token`, { grant_type: 'client_credentials' }, basic('vendor-x', secret))).status).toBe(200);
    expect(
      (await call('POST', `${origin()}/auth/admin/clients`, admin, { client_id: 'vendor-x', grant_types: ['client_credentials'], scope: 'system/Patient.rs' }))
        .status,
    ).toBe(400);
    expect((await call('DELETE', `${origin()}/auth/admin/clients/vendor-x`, admin)).status).toBe(204);
    expect((await postForm(`${origin()}/auth/token`, { grant_type: 'client_credentials' }, basic('vendor-x', secret))).status).toBe(401);

    const unsafe = await call('POST', `${origin()}/auth/admin/clients`, admin, {
      client_id: 'web',
      token_endpoint_auth_method: 'none',
      redirect_uris: ['http://app.example/cb'],
      scope: 'user/*.rs',
    });
    expect(unsafe.status).toBe(400);
    expect(unsafe.body.error).toBe('invalid_client_metadata');

    const notAdmin = await operatorToken(origin(), 'system/*.cruds');
    expect((await call('GET', `${origin()}/auth/admin/clients`, notAdmin)).status).toBe(403);
    expect((await call('GET', `${origin()}/auth/admin/users`, 'not-a-token')).status).toBe(401);
  });

  it('rotates the signing key with overlap: old tokens keep working, new ones use the new key', async () => {
    const before = await operatorToken(origin(), 'system/*.rs');
    const rotated = await call('POST', `${origin()}/auth/admin/keys/rotate`, admin);
    expect(rotated.status).toBe(200);
    const jwks = (await (await fetch(`${origin()}/auth/jwks`)).json()) as { keys: { kid: string }[] };
    expect(jwks.keys.length).toBeGreaterThanOrEqual(2);
    const after = await operatorToken(origin(), 'system/*.rs');
    expect(decodeProtectedHeader(after).kid).not.toBe(decodeProtectedHeader(before).kid);
    expect(jwks.keys.map((k) => k.kid)).toEqual(expect.arrayContaining([decodeProtectedHeader(before).kid, decodeProtectedHeader(after).kid]));
    for (const token of [before, after]) expect((await call('GET', `${t.server.base}/Patient?_count=1`, token)).status).toBe(200);
  });

  it('disables users and changes passwords (at least 12 characters)', async () => {
    const p = await seedPractice(origin());
    await registerApp(origin(), { client_id: 'web-app', token_endpoint_auth_method: 'none', redirect_uris: [APP_REDIRECT], scope: 'user/*.rs' });
    const users = (await call('GET', `${origin()}/auth/admin/users`, admin)).body as { id: string; username: string }[];
    const user = users.find((u) => u.username === p.username) as { id: string };
    expect((await call('POST', `${origin()}/auth/admin/users`, admin, { practitioner: `Practitioner/${p.practitioner}` })).status).toBe(400);
    expect((await call('POST', `${origin()}/auth/admin/users`, admin, { practitioner: 'Practitioner/nobody' })).status).toBe(400);
    const tryLogin = async (password: string) => {
      const walker = new PageWalker(origin());
      const params = {
        response_type: 'code',
        client_id: 'web-app',
        redirect_uri: APP_REDIRECT,
        scope: 'user/*.rs',
        state: 's',
        aud: t.server.base,
        code_challenge: pkce().challenge,
        code_challenge_method: 'S256',
      };
      await walker.go(`authorize?${new URLSearchParams(params)}`);
      const page = await walker.go('login');
      return (await walker.go('login', { csrf: PageWalker.csrf(page.html), username: p.username, password })).status;
    };
    expect(await tryLogin(p.password)).toBe(303);
    expect((await call('PATCH', `${origin()}/auth/admin/users/${user.id}`, admin, { active: false })).body.active).toBe(false);
    expect(await tryLogin(p.password)).toBe(401);
    expect((await call('PATCH', `${origin()}/auth/admin/users/${user.id}`, admin, { password: 'short' })).status).toBe(400);
    expect((await call('PATCH', `${origin()}/auth/admin/users/${user.id}`, admin, { active: true, password: 'a new long passphrase' })).status).toBe(200);
    expect(await tryLogin(p.password)).toBe(401);
    expect(await tryLogin('a new long passphrase')).toBe(303);
  });

  it('answers CORS for registered app origins only on the token endpoint and the API', async () => {
    await registerApp(origin(), {
      client_id: 'spa',
      token_endpoint_auth_method: 'none',
      redirect_uris: ['http://localhost:5173/callback'],
      scope: 'patient/*.rs launch/patient',
    });
    const preflight = (path: string, from: string) =>
      fetch(`${origin()}${path}`, {
        method: 'OPTIONS',
        headers: { origin: from, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization' },
      });
    const allowed = await preflight('/auth/token', 'http://localhost:5173');
    expect(allowed.headers.get('access-control-allow-origin')).toBe('http://localhost:5173');
    expect((await preflight('/auth/token', 'https://evil.example')).headers.get('access-control-allow-origin')).toBeNull();
    expect((await preflight('/fhir/Patient', 'http://localhost:5173')).headers.get('access-control-allow-origin')).toBe('http://localhost:5173');
    expect((await preflight('/auth/admin/clients', 'http://localhost:5173')).headers.get('access-control-allow-origin')).toBeNull();
    const api = await fetch(`${t.server.base}/Patient?_count=1`, { headers: { origin: 'http://localhost:5173', authorization: `Bearer ${admin}` } });
    expect(api.headers.get('access-control-allow-origin')).toBe('http://localhost:5173');
    expect(api.headers.get('access-control-expose-headers')).toContain('Location');
  });
});
