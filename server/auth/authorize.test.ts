import { createRemoteJWKSet, decodeJwt, jwtVerify } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import { DATABASES, useServer } from '../../tests/harness.js';
import { APP_REDIRECT, authorizeByPassword, call, operatorToken, OPERATOR, PageWalker, pkce, postForm, registerApp, seedPractice } from '../../tests/smart.js';

type Practice = Awaited<ReturnType<typeof seedPractice>>;

describe.each(DATABASES)('authorization code flow on %s', (kind) => {
  const t = useServer(kind, { auth: true, ...OPERATOR, loginRateLimit: 3 });
  const origin = () => t.server.url;
  let p: Practice;
  const app = 'coordination-app';
  beforeAll(async () => {
    p = await seedPractice(origin());
    await registerApp(origin(), {
      client_id: app,
      client_name: 'Appli de coordination',
      token_endpoint_auth_method: 'none',
      redirect_uris: [APP_REDIRECT],
      grant_types: ['authorization_code', 'refresh_token'],
      scope: 'openid fhirUser launch launch/patient launch/encounter offline_access online_access patient/*.cruds user/*.rs',
    });
  });
  const login = (scope: string, extra: Partial<Parameters<typeof authorizeByPassword>[1]> = {}) =>
    authorizeByPassword(origin(), { clientId: app, scope, username: p.username, password: p.password, role: p.role2, patient: p.patient, ...extra });
  const exchange = (code: string, verifier: string, extra: Record<string, string> = {}) =>
    postForm(`${origin()}/auth/token`, {
      grant_type: 'authorization_code',
      code,
      code_verifier: verifier,
      redirect_uri: APP_REDIRECT,
      client_id: app,
      ...extra,
    });

  it('runs a standalone launch: login, role, patient picker, code, tokens with context and an id_token', async () => {
    const { callback, verifier, state } = await login('openid fhirUser launch/patient patient/*.rs offline_access', { nonce: 'n-123' });
    expect(callback.origin + callback.pathname).toBe(APP_REDIRECT);
    // The patients the picker showed the user are in the audit trail, as any search of theirs (read through the API, which flushes it).
    expect((await call('GET', `${origin()}/fhir/AuditEvent?_count=1`, await operatorToken(origin()))).status).toBe(200);
    const shown = await t.server.db.query<{ patients: string[] }>(
      `SELECT patients FROM audit_trail WHERE client = $1 AND record->>'query' LIKE '%_count=20%'`,
      [app],
    );
    expect(shown.flatMap((r) => r.patients)).toContain(p.patient);
    expect(callback.searchParams.get('state')).toBe(state);
    const res = await exchange(callback.searchParams.get('code') as string, verifier);
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(res.body).toMatchObject({
      token_type: 'Bearer',
      expires_in: 3600,
      scope: 'openid fhirUser launch/patient patient/*.rs offline_access',
      patient: p.patient,
      need_patient_banner: true,
      smart_style_url: `${origin()}/auth/smart-style.json`,
      fhirContext: [{ reference: `PractitionerRole/${p.role2}`, role: 'urn:maillage:fhir-context-role:acting-as' }],
    });
    expect(res.body.refresh_token).toBeTruthy();
    const jwks = createRemoteJWKSet(new URL(`${origin()}/auth/jwks`));
    const { payload, protectedHeader } = await jwtVerify(res.body.id_token, jwks, { issuer: `${origin()}/auth`, audience: app });
    expect(protectedHeader.alg).toBe('RS256');
    expect(payload).toMatchObject({ fhirUser: `${origin()}/fhir/Practitioner/${p.practitioner}`, nonce: 'n-123' });
    const style = await fetch(res.body.smart_style_url);
    expect(style.status).toBe(200);

    // The token opens this patient's compartment and nothing else.
    const token = res.body.access_token;
    expect((await call('GET', `${origin()}/fhir/Patient/${p.patient}`, token)).status).toBe(200);
    expect((await call('GET', `${origin()}/fhir/Patient/${p.patient2}`, token)).status).toBe(403);
    expect((await call('GET', `${origin()}/fhir/Encounter/${p.encounter}`, token)).status).toBe(200);
    const patients = await call('GET', `${origin()}/fhir/Patient`, token);
    expect(patients.body.entry.map((e: any) => e.resource.id)).toEqual([p.patient]);
    expect((await call('POST', `${origin()}/fhir/Patient`, token, { resourceType: 'Patient' })).status).toBe(403);
    expect((await call('GET', `${origin()}/fhir/Practitioner/${p.practitioner}`, token)).status).toBe(403);
  });

  it('standalone launch/encounter: the patient, then one of their encounters, both in the token context', async () => {
    const { callback, verifier } = await login('launch/patient launch/encounter patient/*.rs', { encounter: p.encounter });
    const res = await exchange(callback.searchParams.get('code') as string, verifier);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ scope: 'launch/patient launch/encounter patient/*.rs', patient: p.patient, encounter: p.encounter });

    // The picker lists the chosen patient's encounters only, and refuses another patient's.
    const other = `enc-other-${p.patient2}`;
    const operator = await operatorToken(origin());
    await call('PUT', `${origin()}/fhir/Encounter/${other}`, operator, {
      resourceType: 'Encounter',
      id: other,
      status: 'finished',
      class: { code: 'AMB' },
      subject: { reference: `Patient/${p.patient2}` },
    });
    const walker = new PageWalker(origin());
    const { challenge } = pkce();
    const query = new URLSearchParams({
      response_type: 'code',
      client_id: app,
      redirect_uri: APP_REDIRECT,
      scope: 'launch/encounter patient/*.rs',
      state: 's',
      aud: `${origin()}/fhir`,
      code_challenge: challenge,
      code_challenge_method: 'S256',
    });
    await walker.go(`authorize?${query}`);
    const loginPage = await walker.go('login');
    await walker.go('login', { csrf: PageWalker.csrf(loginPage.html), username: p.username, password: p.password });
    const consent = await walker.go('consent');
    expect((await walker.go('consent', { csrf: PageWalker.csrf(consent.html), role: p.role2, decision: 'allow' })).location).toMatch(/\/auth\/patient$/);
    const patients = await walker.go('patient');
    expect((await walker.go('patient', { csrf: PageWalker.csrf(patients.html), patient: p.patient })).location).toMatch(/\/auth\/encounter$/);
    const encounters = await walker.go('encounter');
    expect(encounters.html).toContain(`value="${p.encounter}"`);
    expect(encounters.html).not.toContain(other);
    expect((await walker.go('encounter', { csrf: PageWalker.csrf(encounters.html), encounter: other })).status).toBe(400);
    const picked = await walker.go('encounter', { csrf: PageWalker.csrf(encounters.html), encounter: p.encounter });
    expect(picked.status).toBe(303);
    expect(new URL(picked.location as string).searchParams.get('code')).toBeTruthy();
  });

  it('confines the entries of transactions and batches to the patient in context', async () => {
    const { callback, verifier } = await login('launch/patient patient/*.cruds');
    const token = (await exchange(callback.searchParams.get('code') as string, verifier)).body.access_token;
    const observation = (patient: string) => ({
      resource: { resourceType: 'Observation', status: 'final', code: { text: 'poids' }, subject: { reference: `Patient/${patient}` } },
      request: { method: 'POST', url: 'Observation' },
    });
    const bundle = (type: string, ...entry: unknown[]) => ({ resourceType: 'Bundle', type, entry });
    const mine = await call('POST', `${origin()}/fhir`, token, bundle('transaction', observation(p.patient)));
    expect(mine.status).toBe(200);
    const theirs = await call('POST', `${origin()}/fhir`, token, bundle('transaction', observation(p.patient), observation(p.patient2)));
    expect(theirs.status).toBe(403);
    expect(theirs.body.resourceType).toBe('OperationOutcome');
    const batch = await call(
      'POST',
      `${origin()}/fhir`,
      token,
      bundle('batch', observation(p.patient2), { request: { method: 'GET', url: `Patient/${p.patient2}` } }),
    );
    expect(batch.body.entry.map((e: any) => e.response.status)).toEqual([expect.stringMatching(/^403/), expect.stringMatching(/^403/)]);
    const count = await call('GET', `${origin()}/fhir/Observation?subject=Patient/${p.patient2}&_summary=count`, await operatorToken(origin()));
    expect(count.body.total).toBe(0);
  });

  it('refuses to redirect to an unregistered URI, and sends other faults back to the app', async () => {
    const { challenge } = pkce();
    const base = {
      response_type: 'code',
      client_id: app,
      redirect_uri: APP_REDIRECT,
      scope: 'launch/patient patient/*.rs',
      state: 'xyz',
      aud: `${origin()}/fhir`,
      code_challenge: challenge,
      code_challenge_method: 'S256',
    };
    const walker = new PageWalker(origin());
    const evil = await walker.go(`authorize?${new URLSearchParams({ ...base, redirect_uri: 'https://evil.example/cb' })}`);
    expect(evil.status).toBe(400);
    expect(evil.location).toBeUndefined();
    expect(evil.html).toContain('<html lang="fr">');
    expect((await walker.go(`authorize?${new URLSearchParams({ ...base, client_id: 'nobody' })}`)).status).toBe(400);
    const back = async (over: Record<string, string>, drop?: string) => {
      const params: Record<string, string> = { ...base, ...over };
      if (drop) delete params[drop];
      const res = await walker.go(`authorize?${new URLSearchParams(params)}`);
      expect(res.status).toBe(303);
      const url = new URL(res.location as string);
      expect(url.origin + url.pathname).toBe(APP_REDIRECT);
      return url.searchParams;
    };
    expect((await back({ aud: 'https://other.example/fhir' })).get('error')).toBe('invalid_request');
    expect((await back({ code_challenge_method: 'plain' })).get('error')).toBe('invalid_request');
    expect((await back({}, 'code_challenge')).get('error')).toBe('invalid_request');
    expect((await back({ response_type: 'token' })).get('error')).toBe('unsupported_response_type');
    expect((await back({ scope: 'system/*.cruds' })).get('error')).toBe('invalid_scope');
    expect((await back({ launch: 'made-up' })).get('state')).toBe('xyz');
    // Repeated parameters are refused outright, in the query or the form of a POST.
    expect((await walker.go(`authorize?${new URLSearchParams(base)}&scope=openid`)).status).toBe(400);
    expect((await walker.go('authorize', { ...base, scope: 'openid' })).status).toBe(303);
    const repeated = await fetch(`${origin()}/auth/authorize`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: `${new URLSearchParams(base)}&scope=openid`,
      redirect: 'manual',
    });
    expect(repeated.status).toBe(400);
  });

  it('makes codes single-use (a reuse revokes what the code gave), bound to verifier, redirect and client', async () => {
    const first = await login('launch/patient patient/*.rs');
    const code = first.callback.searchParams.get('code') as string;
    expect((await exchange(code, pkce().verifier)).body.error).toBe('invalid_grant');
    // The code was spent by the wrong verifier: even the right one fails now.
    expect((await exchange(code, first.verifier)).body.error).toBe('invalid_grant');

    const second = await login('launch/patient patient/*.rs');
    const code2 = second.callback.searchParams.get('code') as string;
    expect((await exchange(code2, second.verifier, { redirect_uri: 'http://127.0.0.1:9/other' })).body.error).toBe('invalid_grant');

    const third = await login('launch/patient patient/*.rs');
    const code3 = third.callback.searchParams.get('code') as string;
    const good = await exchange(code3, third.verifier);
    expect(good.status).toBe(200);
    expect((await call('GET', `${origin()}/fhir/Patient/${p.patient}`, good.body.access_token)).status).toBe(200);
    const reused = await exchange(code3, third.verifier);
    expect(reused.status).toBe(400);
    expect(reused.body.error).toBe('invalid_grant');
    expect((await call('GET', `${origin()}/fhir/Patient/${p.patient}`, good.body.access_token)).status).toBe(401);

    const fourth = await login('launch/patient patient/*.rs');
    const other = await postForm(`${origin()}/auth/token`, {
      grant_type: 'authorization_code',
      code: fourth.callback.searchParams.get('code') as string,
      code_verifier: fourth.verifier,
      redirect_uri: APP_REDIRECT,
      client_id: OPERATOR.bootstrapClientId,
      client_secret: OPERATOR.bootstrapClientSecret,
    });
    expect(other.body.error).toBe('unauthorized_client');
  });

  it('rotates refresh tokens, refuses escalation, and revokes the whole grant when one is reused', async () => {
    const { callback, verifier } = await login('launch/patient patient/*.rs offline_access');
    const first = (await exchange(callback.searchParams.get('code') as string, verifier)).body;
    const refresh = (refresh_token: string, scope?: string) =>
      postForm(`${origin()}/auth/token`, { grant_type: 'refresh_token', refresh_token, client_id: app, ...(scope ? { scope } : {}) });
    const escalated = await refresh(first.refresh_token, 'launch/patient patient/*.cruds offline_access');
    expect(escalated.body.error).toBe('invalid_scope');
    const second = await refresh(first.refresh_token, 'patient/Patient.rs');
    expect(second.status).toBe(200);
    expect(second.body).toMatchObject({ scope: 'patient/Patient.rs', patient: p.patient });
    expect(second.body.refresh_token).not.toBe(first.refresh_token);
    expect((await call('GET', `${origin()}/fhir/Encounter/${p.encounter}`, second.body.access_token)).status).toBe(403);
    const third = await refresh(second.body.refresh_token);
    expect(third.status).toBe(200);
    expect(third.body.scope).toBe('launch/patient patient/*.rs offline_access');
    // An old refresh token comes back: someone else holds the family; all of it goes.
    expect((await refresh(first.refresh_token)).body.error).toBe('invalid_grant');
    expect((await refresh(third.body.refresh_token)).body.error).toBe('invalid_grant');
    expect((await call('GET', `${origin()}/fhir/Patient/${p.patient}`, third.body.access_token)).status).toBe(401);
  });

  it('introspects (inactive for anything invalid) and revokes access and refresh tokens', async () => {
    const { callback, verifier } = await login('launch/patient patient/*.rs online_access');
    const tokens = (await exchange(callback.searchParams.get('code') as string, verifier)).body;
    const ops = await operatorToken(origin());
    const introspect = (token: string, auth = { authorization: `Bearer ${ops}` }) => postForm(`${origin()}/auth/introspect`, { token }, auth);
    const active = await introspect(tokens.access_token);
    expect(active.status).toBe(200);
    expect(active.body).toMatchObject({ active: true, client_id: app, scope: 'launch/patient patient/*.rs online_access', patient: p.patient });
    expect(active.body.fhirUser).toBe(`${origin()}/fhir/Practitioner/${p.practitioner}`);
    expect(active.body.exp).toBeGreaterThan(Date.now() / 1000);
    expect((await introspect('garbage')).body).toEqual({ active: false });
    expect((await introspect(tokens.access_token, { authorization: '' } as never)).status).toBe(401);

    const revoke = (token: string) => postForm(`${origin()}/auth/revoke`, { token, client_id: app });
    expect((await revoke(tokens.access_token)).status).toBe(200);
    expect((await introspect(tokens.access_token)).body).toEqual({ active: false });
    expect((await call('GET', `${origin()}/fhir/Patient/${p.patient}`, tokens.access_token)).status).toBe(401);
    expect((await revoke('not-a-token')).status).toBe(200);
    expect((await revoke(tokens.refresh_token)).status).toBe(200);
    const refreshed = await postForm(`${origin()}/auth/token`, { grant_type: 'refresh_token', refresh_token: tokens.refresh_token, client_id: app });
    expect(refreshed.body.error).toBe('invalid_grant');
  });

  it('gives user-level access with user/ scopes and the user denied can refuse', async () => {
    const { callback, verifier } = await login('openid fhirUser user/*.rs');
    const res = await exchange(callback.searchParams.get('code') as string, verifier);
    expect(res.body.patient).toBeUndefined();
    expect(decodeJwt(res.body.access_token)).toMatchObject({ fhirUser: `${origin()}/fhir/Practitioner/${p.practitioner}`, role: p.role2 });
    expect((await call('GET', `${origin()}/fhir/Patient/${p.patient2}`, res.body.access_token)).status).toBe(200);
    expect((await call('GET', `${origin()}/fhir/Practitioner/${p.practitioner}`, res.body.access_token)).status).toBe(200);

    const walker = new PageWalker(origin());
    const { challenge } = pkce();
    await walker.go(
      `authorize?${new URLSearchParams({ response_type: 'code', client_id: app, redirect_uri: APP_REDIRECT, scope: 'user/*.rs', state: 's', aud: `${origin()}/fhir`, code_challenge: challenge, code_challenge_method: 'S256' })}`,
    );
    const page = await walker.go('login');
    expect((await walker.go('login', { csrf: 'forged', username: p.username, password: p.password })).status).toBe(403);
    expect((await walker.go('login', { csrf: PageWalker.csrf(page.html), username: p.username, password: 'wrong password!' })).status).toBe(401);
    await walker.go('login', { csrf: PageWalker.csrf(page.html), username: p.username, password: p.password });
    const consent = await walker.go('consent');
    expect(consent.html).toContain('Médecin coordonnateur — SSIAD du Val');
    expect(consent.html).toContain('Médecin généraliste — MSP des Tilleuls');
    const denied = await walker.go('consent', { csrf: PageWalker.csrf(consent.html), decision: 'deny' });
    expect(new URL(denied.location as string).searchParams.get('error')).toBe('access_denied');
  });

  it('limits failed password logins per address and username (429), not the others', async () => {
    const walker = new PageWalker(origin());
    const { challenge } = pkce();
    await walker.go(
      `authorize?${new URLSearchParams({ response_type: 'code', client_id: app, redirect_uri: APP_REDIRECT, scope: 'user/*.rs', state: 's', aud: `${origin()}/fhir`, code_challenge: challenge, code_challenge_method: 'S256' })}`,
    );
    const csrf = PageWalker.csrf((await walker.go('login')).html);
    const attempt = (username: string, password: string) => walker.go('login', { csrf, username, password });
    for (let i = 0; i < 3; i++) expect((await attempt('guessed-name', `try ${i}`)).status).toBe(401);
    expect((await attempt('guessed-name', 'one more')).status).toBe(429);
    expect((await attempt(p.username, p.password)).status).toBe(303);
  });

  it('runs an EHR launch with a handle minted by practice software, used once', async () => {
    const ops = await operatorToken(origin(), 'system/Patient.rs system/Encounter.rs');
    const minted = await call('POST', `${origin()}/auth/launch`, ops, {
      patient: p.patient,
      encounter: `Encounter/${p.encounter}`,
      need_patient_banner: false,
      fhirContext: [{ reference: `Encounter/${p.encounter}` }],
      client_id: app,
    });
    expect(minted.status).toBe(201);
    const { callback, verifier } = await login('launch openid fhirUser patient/*.rs', { launch: minted.body.launch });
    const res = await exchange(callback.searchParams.get('code') as string, verifier);
    expect(res.body).toMatchObject({ patient: p.patient, encounter: p.encounter, need_patient_banner: false, scope: 'launch openid fhirUser patient/*.rs' });
    expect(res.body.fhirContext).toEqual([
      { reference: `Encounter/${p.encounter}` },
      { reference: `PractitionerRole/${p.role2}`, role: 'urn:maillage:fhir-context-role:acting-as' },
    ]);
    const again = await login('launch patient/*.rs', { launch: minted.body.launch });
    expect(again.callback.searchParams.get('error')).toBe('invalid_request');

    const patientReader = await operatorToken(origin(), 'system/Observation.rs');
    expect((await call('POST', `${origin()}/auth/launch`, patientReader, { patient: p.patient })).status).toBe(403);
    expect((await call('POST', `${origin()}/auth/launch`, ops, { patient: 'nobody-here' })).status).toBe(400);
    expect((await call('POST', `${origin()}/auth/launch`, 'x', { patient: p.patient })).status).toBe(401);
  });
});
