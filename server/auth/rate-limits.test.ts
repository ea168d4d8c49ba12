import { beforeAll, describe, expect, it } from 'vitest';
import { DATABASES, useServer } from '../../tests/harness.js';
import { APP_REDIRECT, OPERATOR, PageWalker, pkce, postForm, registerApp, seedPractice } from '../../tests/smart.js';

type Practice = Awaited<ReturnType<typeof seedPractice>>;

/** Failed logins and client authentications are limited per address (across user names and clients) and per client. */
describe.each(DATABASES)('limits of failed logins and client authentications on %s', (kind) => {
  // Behind a trusted proxy (the loopback), each test comes from addresses of its own.
  const t = useServer(kind, { auth: true, ...OPERATOR, loginRateLimit: 3, loginAddressRateLimit: 5, clientAuthRateLimit: 3, trustProxy: 'loopback' });
  const origin = () => t.server.url;
  let p: Practice;
  let secret: string;
  const app = 'limits-app';
  const backend = 'limits-backend';
  beforeAll(async () => {
    p = await seedPractice(origin());
    await registerApp(origin(), {
      client_id: app,
      token_endpoint_auth_method: 'none',
      redirect_uris: [APP_REDIRECT],
      grant_types: ['authorization_code'],
      scope: 'user/*.rs',
    });
    secret = (await registerApp(origin(), { client_id: backend, grant_types: ['client_credentials'], scope: 'system/*.rs' })).client_secret;
  });

  const loginFrom = async (address: string) => {
    const walker = new PageWalker(origin(), { 'x-forwarded-for': address });
    const { challenge } = pkce();
    await walker.go(
      `authorize?${new URLSearchParams({ response_type: 'code', client_id: app, redirect_uri: APP_REDIRECT, scope: 'user/*.rs', state: 's', aud: `${origin()}/fhir`, code_challenge: challenge, code_challenge_method: 'S256' })}`,
    );
    const csrf = PageWalker.csrf((await walker.go('login')).html);
    return (username: string, password: string) => walker.go('login', { csrf, username, password });
  };

  it('limits failed password logins per address across user names: spraying gets 429 with Retry-After', async () => {
    const attempt = await loginFrom('198.51.100.1');
    // Each user name stays under its own limit (3), the address reaches its own (5).
    for (let i = 0; i < 5; i++) expect((await attempt(`user-${i}`, 'Printemps2026!')).status).toBe(401);
    const blocked = await fetch(`${origin()}/auth/login`, {
      method: 'POST',
      headers: { 'x-forwarded-for': '198.51.100.1', 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ username: 'user-9', password: 'x' }),
    });
    expect(blocked.status).toBe(429);
    expect(Number(blocked.headers.get('retry-after'))).toBeGreaterThan(0);
    // Even the right password: a guess must not be tested while blocked.
    expect((await attempt(p.username, p.password)).status).toBe(429);
    // Another address is not held back.
    expect((await (await loginFrom('198.51.100.2'))(p.username, p.password)).status).toBe(303);
  });

  const token = (address: string, id: string, secretTried: string) =>
    postForm(`${origin()}/auth/token`, { grant_type: 'client_credentials', client_id: id, client_secret: secretTried }, { 'x-forwarded-for': address });

  it('limits failed client authentications per client id, from any address', async () => {
    for (let i = 0; i < 3; i++) expect((await token(`203.0.113.${i + 1}`, backend, `guess-${i}`)).status).toBe(400);
    const blocked = await token('203.0.113.50', backend, secret);
    expect(blocked.status).toBe(429);
    expect(blocked.body.error).toBe('temporarily_unavailable');
    expect(Number(blocked.headers.get('retry-after'))).toBeGreaterThan(0);
    // Through HTTP Basic too, and at the introspection and revocation endpoints.
    const basic = { authorization: `Basic ${Buffer.from(`${backend}:${secret}`).toString('base64')}`, 'x-forwarded-for': '203.0.113.51' };
    expect((await postForm(`${origin()}/auth/token`, { grant_type: 'client_credentials' }, basic)).status).toBe(429);
    expect((await postForm(`${origin()}/auth/introspect`, { token: 'x' }, basic)).status).toBe(429);
    expect((await postForm(`${origin()}/auth/revoke`, { token: 'x' }, basic)).status).toBe(429);
  });

  it('limits failed client authentications per address, across client ids; other failures do not count', async () => {
    const other = (await registerApp(origin(), { client_id: 'limits-other', grant_types: ['client_credentials'], scope: 'system/*.rs' })).client_secret;
    // A client that proves itself but asks for what it may not have is not guessing.
    for (let i = 0; i < 5; i++) {
      const res = await postForm(
        `${origin()}/auth/token`,
        { grant_type: 'client_credentials', client_id: 'limits-other', client_secret: other, scope: 'system/*.cruds' },
        { 'x-forwarded-for': '192.0.2.1' },
      );
      expect(res.status).toBe(400);
    }
    expect((await token('192.0.2.1', 'limits-other', other)).status).toBe(200);
    for (let i = 0; i < 3; i++) expect((await token('192.0.2.9', `made-up-${i}`, 'secret')).status).toBe(400);
    expect((await token('192.0.2.9', 'limits-other', other)).status).toBe(429);
    expect((await token('192.0.2.10', 'limits-other', other)).status).toBe(200);
  });
});
