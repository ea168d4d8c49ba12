import { createServer, type Server } from 'node:http';
import { randomUUID } from 'node:crypto';
import { createRemoteJWKSet, decodeJwt, decodeProtectedHeader, exportJWK, generateKeyPair, jwtVerify, SignJWT, type CryptoKey } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, useServer } from '../../tests/harness.js';
import { APP_REDIRECT, authorizeByPassword, call, operatorToken, OPERATOR, postForm, registerApp, seedPractice } from '../../tests/smart.js';

/**
 * The checks of Inferno's SMART App Launch STU 2.2 test kit, written as tests: discovery,
 * standalone launch, EHR launch, OpenID Connect, token introspection and backend services
 * (private_key_jwt). Each `it` names the Inferno group it follows. These check the protocol;
 * the same flows run on both databases in authorize.test.ts, so PGlite is enough here.
 */
describe('Inferno SMART App Launch 2.2 checks', () => {
  // The backend services act for the whole pôle (the équipe-de-soins rules of a system client).
  const rules = { recordHolders: [], clientOrganizations: { 'bulk-es384': '*', 'bulk-jku': '*' }, breakGlassMinutes: 0 };
  const t = useServer('pglite', { auth: true, ...OPERATOR, accessRules: rules });
  const origin = () => t.server.url;
  let smart: Record<string, any>;
  let p: Awaited<ReturnType<typeof seedPractice>>;
  let jwksServer: Server;
  let jwksUri: string;
  const keys: Record<string, { privateKey: CryptoKey; kid: string; alg: string }> = {};

  beforeAll(async () => {
    smart = (await (await fetch(`${t.server.base}/.well-known/smart-configuration`)).json()) as Record<string, any>;
    p = await seedPractice(origin());
    await registerApp(origin(), {
      client_id: 'inferno-public',
      token_endpoint_auth_method: 'none',
      redirect_uris: [APP_REDIRECT],
      scope: 'openid fhirUser launch launch/patient offline_access patient/*.rs user/*.rs',
    });
    for (const [name, alg] of [
      ['es', 'ES384'],
      ['rs', 'RS384'],
      ['other', 'RS384'],
    ]) {
      keys[name] = { privateKey: (await generateKeyPair(alg, { extractable: true })).privateKey, kid: `kid-${name}`, alg };
    }
    const publicJwk = async (name: string) => {
      const { d: _d, p: _p, q: _q, dp: _dp, dq: _dq, qi: _qi, ...pub } = await exportJWK(keys[name].privateKey);
      return { ...pub, kid: keys[name].kid, alg: keys[name].alg };
    };
    const port = await freePort();
    jwksUri = `http://127.0.0.1:${port}/jwks.json`;
    const served = { keys: [await publicJwk('rs')] };
    jwksServer = createServer((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(served)));
    await new Promise<void>((resolve) => jwksServer.listen(port, '127.0.0.1', resolve));
    await registerApp(origin(), {
      client_id: 'bulk-es384',
      token_endpoint_auth_method: 'private_key_jwt',
      grant_types: ['client_credentials'],
      jwks: { keys: [await publicJwk('es')] },
      scope: 'system/*.rs',
    });
    await registerApp(origin(), {
      client_id: 'bulk-jku',
      token_endpoint_auth_method: 'private_key_jwt',
      grant_types: ['client_credentials'],
      jwks_uri: jwksUri,
      scope: 'system/Patient.rs',
    });
  });
  afterAll(() => new Promise<void>((resolve) => (jwksServer ? jwksServer.close(() => resolve()) : resolve())));

  const assertion = (clientId: string, key: keyof typeof keys, over: { aud?: string; exp?: string; jti?: string; jku?: string; alg?: string } = {}) =>
    new SignJWT({})
      .setProtectedHeader({ alg: over.alg ?? keys[key].alg, kid: keys[key].kid, typ: 'JWT', ...(over.jku ? { jku: over.jku } : {}) })
      .setIssuer(clientId)
      .setSubject(clientId)
      .setAudience(over.aud ?? smart.token_endpoint)
      .setExpirationTime(over.exp ?? '4m')
      .setJti(over.jti ?? randomUUID())
      .sign(keys[key].privateKey);
  const backendToken = (client_assertion: string, extra: Record<string, string> = {}) =>
    postForm(smart.token_endpoint, {
      grant_type: 'client_credentials',
      scope: 'system/Patient.rs',
      client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
      client_assertion,
      ...extra,
    });

  it('discovery: well-known and CapabilityStatement agree, absolute URLs, S256 and never plain', async () => {
    const res = await fetch(`${t.server.base}/.well-known/smart-configuration`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    for (const field of ['issuer', 'jwks_uri', 'authorization_endpoint', 'token_endpoint', 'introspection_endpoint', 'revocation_endpoint']) {
      expect(new URL(smart[field]).origin, field).toBe(origin());
    }
    expect(smart.grant_types_supported).toEqual(expect.arrayContaining(['authorization_code', 'client_credentials']));
    expect(smart.code_challenge_methods_supported).toContain('S256');
    expect(smart.code_challenge_methods_supported).not.toContain('plain');
    expect(smart.token_endpoint_auth_signing_alg_values_supported).toEqual(expect.arrayContaining(['RS384', 'ES384']));
    for (const capability of [
      'launch-ehr',
      'launch-standalone',
      'client-public',
      'client-confidential-asymmetric',
      'sso-openid-connect',
      'context-standalone-patient',
      'permission-v2',
      'permission-offline',
    ]) {
      expect(smart.capabilities).toContain(capability);
    }
    const metadata = (await (await fetch(`${t.server.base}/metadata`)).json()) as Record<string, any>;
    const uris = metadata.rest[0].security.extension.find((e: any) => e.url.endsWith('oauth-uris')).extension;
    const uri = (name: string) => uris.find((e: any) => e.url === name)?.valueUri;
    expect(uri('authorize')).toBe(smart.authorization_endpoint);
    expect(uri('token')).toBe(smart.token_endpoint);
    expect(uri('introspect')).toBe(smart.introspection_endpoint);
    expect(uri('revoke')).toBe(smart.revocation_endpoint);
    const oidc = (await (await fetch(`${smart.issuer}/.well-known/openid-configuration`)).json()) as Record<string, any>;
    expect(oidc.issuer).toBe(smart.issuer);
    expect(oidc.jwks_uri).toBe(smart.jwks_uri);
    expect(oidc.id_token_signing_alg_values_supported).toContain('RS256');
    // CORS: discovery is open to any web page.
    const cors = await fetch(`${t.server.base}/.well-known/smart-configuration`, { headers: { origin: 'https://any.example' } });
    expect(cors.headers.get('access-control-allow-origin')).toBe('*');
  });

  it('standalone launch and OpenID Connect: token response, headers, id_token signed with a published key, fhirUser resolvable', async () => {
    const { callback, verifier, state } = await authorizeByPassword(origin(), {
      clientId: 'inferno-public',
      scope: 'openid fhirUser launch/patient offline_access patient/*.rs',
      username: p.username,
      password: p.password,
      role: p.role,
      patient: p.patient,
      nonce: 'inferno-nonce',
    });
    expect(callback.searchParams.get('state')).toBe(state);
    expect(
      (
        await postForm(smart.token_endpoint, {
          grant_type: 'authorization_code',
          code: 'invalid',
          code_verifier: verifier,
          redirect_uri: APP_REDIRECT,
          client_id: 'inferno-public',
        })
      ).status,
    ).toBe(400);
    const form = { grant_type: 'authorization_code', code: callback.searchParams.get('code') as string, code_verifier: verifier, redirect_uri: APP_REDIRECT };
    expect((await postForm(smart.token_endpoint, { ...form, client_id: 'not-a-client' })).status).toBe(400);
    const res = await postForm(smart.token_endpoint, { ...form, client_id: 'inferno-public' });
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(res.headers.get('pragma')).toBe('no-cache');
    expect(res.body.token_type.toLowerCase()).toBe('bearer');
    for (const field of ['access_token', 'scope', 'expires_in', 'patient', 'id_token', 'refresh_token']) expect(res.body[field], field).toBeTruthy();

    const header = decodeProtectedHeader(res.body.id_token);
    expect(header.alg).toBe('RS256');
    const published = ((await (await fetch(smart.jwks_uri)).json()) as { keys: { kid: string }[] }).keys;
    expect(published.map((k) => k.kid)).toContain(header.kid);
    const { payload } = await jwtVerify(res.body.id_token, createRemoteJWKSet(new URL(smart.jwks_uri)), { issuer: smart.issuer, audience: 'inferno-public' });
    for (const claim of ['iss', 'sub', 'aud', 'exp', 'iat', 'fhirUser']) expect(payload[claim], claim).toBeDefined();
    // Inferno reads the fhirUser with the access token; a user-level token can.
    const userToken = await authorizeByPassword(origin(), {
      clientId: 'inferno-public',
      scope: 'openid fhirUser user/*.rs',
      username: p.username,
      password: p.password,
      role: p.role,
    });
    const userTokens = await postForm(smart.token_endpoint, {
      grant_type: 'authorization_code',
      code: userToken.callback.searchParams.get('code') as string,
      code_verifier: userToken.verifier,
      redirect_uri: APP_REDIRECT,
      client_id: 'inferno-public',
    });
    const fhirUser = await call('GET', decodeJwt(userTokens.body.id_token).fhirUser as string, userTokens.body.access_token);
    expect(fhirUser.status).toBe(200);
    expect(fhirUser.body.resourceType).toBe('Practitioner');

    // Token refresh, with and without scope.
    const refreshed = await postForm(smart.token_endpoint, {
      grant_type: 'refresh_token',
      refresh_token: res.body.refresh_token,
      client_id: 'inferno-public',
      scope: 'patient/*.rs',
    });
    expect(refreshed.status).toBe(200);
    expect(refreshed.headers.get('cache-control')).toBe('no-store');
    expect(refreshed.body).toMatchObject({ scope: 'patient/*.rs', patient: p.patient });
    const again = await postForm(smart.token_endpoint, {
      grant_type: 'refresh_token',
      refresh_token: refreshed.body.refresh_token,
      client_id: 'inferno-public',
    });
    expect(again.status).toBe(200);
    expect((await call('GET', `${t.server.base}/Patient/${p.patient}`, again.body.access_token)).status).toBe(200);
    expect((await fetch(`${t.server.base}/Patient/${p.patient}`)).status).toBe(401);

    // Token introspection of this token: active, with its scope, client, patient, and the id_token's iss and sub.
    const introspected = await postForm(
      smart.introspection_endpoint,
      { token: again.body.access_token },
      { authorization: `Bearer ${await operatorToken(origin())}` },
    );
    expect(introspected.body).toMatchObject({
      active: true,
      scope: again.body.scope,
      client_id: 'inferno-public',
      patient: p.patient,
      iss: smart.issuer,
      sub: payload.sub,
    });
    expect(
      (await postForm(smart.introspection_endpoint, { token: `${again.body.access_token}x` }, { authorization: `Bearer ${await operatorToken(origin())}` }))
        .body,
    ).toEqual({ active: false });
  });

  it('EHR launch: the launch handle brings patient and encounter into the token response', async () => {
    const minted = await call('POST', `${origin()}/auth/launch`, await operatorToken(origin()), { patient: p.patient, encounter: p.encounter });
    const { callback, verifier } = await authorizeByPassword(origin(), {
      clientId: 'inferno-public',
      scope: 'launch openid fhirUser patient/*.rs',
      launch: minted.body.launch,
      username: p.username,
      password: p.password,
      role: p.role,
    });
    const res = await postForm(smart.token_endpoint, {
      grant_type: 'authorization_code',
      code: callback.searchParams.get('code') as string,
      code_verifier: verifier,
      redirect_uri: APP_REDIRECT,
      client_id: 'inferno-public',
    });
    expect(res.body).toMatchObject({ patient: p.patient, encounter: p.encounter, need_patient_banner: true });
    expect(res.body.smart_style_url).toMatch(/^http/);
  });

  it('backend services: private_key_jwt with ES384 and RS384, keys by kid, jku only from the allow-list', async () => {
    const es = await backendToken(await assertion('bulk-es384', 'es'));
    expect(es.status).toBe(200);
    expect(es.body).toMatchObject({ token_type: 'Bearer', scope: 'system/Patient.rs', expires_in: 3600 });
    expect(es.headers.get('cache-control')).toBe('no-store');
    expect((await call('GET', `${t.server.base}/Patient/${p.patient}`, es.body.access_token)).status).toBe(200);
    const rs = await backendToken(await assertion('bulk-jku', 'rs', { jku: jwksUri }));
    expect(rs.status).toBe(200);
    expect((await backendToken(await assertion('bulk-jku', 'rs'))).status).toBe(200);
    expect((await backendToken(await assertion('bulk-jku', 'rs'), { scope: 'system/Observation.rs' })).body.error).toBe('invalid_scope');
  });

  it('backend services: refuses bad grant types, assertion types, signatures, audiences, lifetimes, jku and replays', async () => {
    const bad = async (res: ReturnType<typeof backendToken>, error: string) => {
      const r = await res;
      expect(r.status).toBe(400);
      expect(r.body.error).toBe(error);
    };
    await bad(backendToken(await assertion('bulk-es384', 'es'), { grant_type: 'password' }), 'unsupported_grant_type');
    await bad(
      backendToken(await assertion('bulk-es384', 'es'), { client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:saml2-bearer' }),
      'invalid_client',
    );
    await bad(backendToken('not.a.jwt'), 'invalid_client');
    await bad(backendToken(await assertion('bulk-es384', 'other')), 'invalid_client');
    await bad(backendToken(await assertion('bulk-es384', 'es', { aud: `${origin()}/fhir` })), 'invalid_client');
    await bad(backendToken(await assertion('bulk-es384', 'es', { exp: '30m' })), 'invalid_client');
    await bad(backendToken(await assertion('bulk-es384', 'es', { exp: '-1m' })), 'invalid_client');
    await bad(backendToken(await assertion('bulk-jku', 'rs', { jku: 'http://127.0.0.1:9/evil-jwks.json' })), 'invalid_client');
    const unsigned = [
      Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url'),
      (await assertion('bulk-es384', 'es')).split('.')[1],
      '',
    ].join('.');
    await bad(backendToken(unsigned), 'invalid_client');
    const once = await assertion('bulk-es384', 'es', { jti: 'jti-once' });
    expect((await backendToken(once)).status).toBe(200);
    await bad(backendToken(once), 'invalid_client');
    // A public client cannot use client_credentials; a confidential one cannot skip authentication.
    await bad(postForm(smart.token_endpoint, { grant_type: 'client_credentials', client_id: 'inferno-public' }), 'unauthorized_client');
    await bad(postForm(smart.token_endpoint, { grant_type: 'client_credentials', client_id: 'bulk-es384' }), 'invalid_client');
  });
});
