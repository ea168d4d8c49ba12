import { createRemoteJWKSet, jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, startTestServer, type TestServer } from '../../tests/harness.js';
import { startPscStub, type PscStub } from '../../tests/psc-stub.js';
import { APP_REDIRECT, call, OPERATOR, operatorToken, PageWalker, pkce, postForm, registerApp, seedPractice } from '../../tests/smart.js';
import { IDNPS_SYSTEM } from './oidc-login.js';

// A login flow, not storage: PGlite is enough.
describe('login through Pro Santé Connect (oidc-provider playing PSC)', () => {
  let server: TestServer;
  let psc: PscStub;
  let p: Awaited<ReturnType<typeof seedPractice>>;
  beforeAll(async () => {
    const port = await freePort();
    const origin = `http://127.0.0.1:${port}`;
    psc = await startPscStub(`${origin}/auth/oidc/callback`);
    server = await startTestServer('pglite', {
      port,
      origin,
      auth: true,
      ...OPERATOR,
      passwordLogin: false,
      oidc: {
        issuer: psc.issuer,
        discovery: 'wallet-openid-configuration',
        clientId: psc.clientId,
        clientSecret: psc.clientSecret,
        scope: 'openid scope_all',
        acrValues: 'eidas1',
        name: 'Pro Santé Connect',
      },
    });
    p = await seedPractice(server.url);
    await registerApp(server.url, { client_id: 'app', token_endpoint_auth_method: 'none', redirect_uris: [APP_REDIRECT], scope: 'openid fhirUser user/*.rs' });
  });
  afterAll(async () => {
    await server?.stop();
    await psc?.close();
  });

  /** Starts an authorization and clicks "Se connecter avec Pro Santé Connect"; returns where PSC sent the user back. */
  async function pscLogin(walker: PageWalker, nonce = 'nonce-1') {
    const { verifier, challenge } = pkce();
    const params = {
      response_type: 'code',
      client_id: 'app',
      redirect_uri: APP_REDIRECT,
      scope: 'openid fhirUser user/*.rs',
      state: 'st',
      nonce,
      aud: server.base,
      code_challenge: challenge,
      code_challenge_method: 'S256',
    };
    await walker.go(`authorize?${new URLSearchParams(params)}`);
    const login = await walker.go('login');
    expect(login.html).toContain('Se connecter avec Pro Santé Connect');
    expect(login.html).not.toContain('type="password"');
    return { verifier, page: await walker.follow('oidc/login', `${server.url}/auth/consent`) };
  }

  it('asks PSC for openid scope_all at eidas1 with PKCE, and lands on the right Practitioner and role', async () => {
    psc.account = { idnps: p.idnps, given: 'Claire', family: 'Martin', activities: [{ raisonSociale: 'MSP des Tilleuls' }, { raisonSociale: 'SSIAD du Val' }] };
    const walker = new PageWalker(server.url);
    const { verifier, page } = await pscLogin(walker);
    expect(psc.lastAuthorization?.get('scope')).toBe('openid scope_all');
    expect(psc.lastAuthorization?.get('acr_values')).toBe('eidas1');
    expect(psc.lastAuthorization?.get('code_challenge_method')).toBe('S256');
    expect(page.location).toBe(`${server.url}/auth/consent`);

    const consent = await walker.go('consent');
    expect(consent.html).toContain('Médecin généraliste — MSP des Tilleuls');
    const done = await walker.go('consent', { csrf: PageWalker.csrf(consent.html), role: p.role, decision: 'allow' });
    const code = new URL(done.location as string).searchParams.get('code') as string;
    const tokens = await postForm(`${server.url}/auth/token`, {
      grant_type: 'authorization_code',
      code,
      code_verifier: verifier,
      redirect_uri: APP_REDIRECT,
      client_id: 'app',
    });
    expect(tokens.status).toBe(200);
    expect(tokens.body.fhirContext).toEqual([{ reference: `PractitionerRole/${p.role}`, role: 'urn:maillage:fhir-context-role:acting-as' }]);
    const { payload } = await jwtVerify(tokens.body.id_token, createRemoteJWKSet(new URL(`${server.url}/auth/jwks`)), {
      issuer: `${server.url}/auth`,
      audience: 'app',
    });
    expect(payload).toMatchObject({ fhirUser: `${server.base}/Practitioner/${p.practitioner}`, acr: 'eidas1', nonce: 'nonce-1' });
  });

  it('refuses a professional who is not a user here, and a login below eidas1', async () => {
    psc.account = { idnps: '810000000999', given: 'Paul', family: 'Inconnu', activities: [] };
    const unknown = await pscLogin(new PageWalker(server.url));
    expect(unknown.page.status).toBe(403);
    expect(unknown.page.html).toContain('pas de compte');

    psc.account = { idnps: p.idnps, given: 'Claire', family: 'Martin', activities: [] };
    psc.acr = 'eidas0';
    try {
      const weak = await pscLogin(new PageWalker(server.url));
      expect(weak.page.status).toBe(401);
    } finally {
      psc.acr = 'eidas1';
    }
  });

  it('traces every PSC login, accepted or refused, with whom PSC named', async () => {
    const trail = await call(
      'GET',
      `${server.base}/AuditEvent?type=http://dicom.nema.org/resources/ontology/DCM|110114&_sort=date&_count=100`,
      await operatorToken(server.url),
    );
    const logins = trail.body.entry.map((e: any) => e.resource).filter((r: any) => r.entity[0].detail[0].valueString === 'oidc');
    const who = (r: any) =>
      r.agent.length === 2 ? (r.agent[0].who.reference ?? `${r.agent[0].who.identifier.system}|${r.agent[0].who.identifier.value}`) : null;
    expect(logins.map((r: any) => [r.outcome, who(r), r.agent.at(-1).who.identifier.value])).toEqual([
      ['0', `Practitioner/${p.practitioner}`, 'app'],
      ['4', `${IDNPS_SYSTEM}|810000000999`, 'app'],
      ['4', null, 'app'],
    ]);
  });
});
