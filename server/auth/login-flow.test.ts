import { describe, expect, it } from 'vitest';
import { ACTING_AS } from '../fhir/maillage.js';
import { USERNAME_SYSTEM } from '../audit/event.js';
import type { AuthorizationRequest } from './authorization.js';
import type { OAuthClient } from './clients.js';
import type { CodeRequest } from './grants.js';
import * as flow from './login-flow.js';
import type { Answers, FlowSettings, Needs, Outcome, Step } from './login-flow.js';
import { IDNPS_SYSTEM } from './oidc-login.js';
import type { LoginState } from './sessions.js';
import { COORDINATION_APP_CLIENT_ID } from '../fhir/maillage.js';

const SETTINGS: FlowSettings = {
  passwordLogin: true,
  oidcName: 'Pro Santé Connect',
  fhirBase: 'https://maillage.example/fhir',
  issuer: 'https://maillage.example/auth',
};
const REDIRECT = 'https://app.example/callback';
const CHALLENGE = 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM';
const NOW = 1_700_000_000;

const CLIENT: OAuthClient = {
  id: 'app',
  name: 'Appli de coordination',
  authMethod: 'none',
  redirectUris: [REDIRECT],
  grantTypes: ['authorization_code', 'refresh_token'],
  scope: 'openid fhirUser launch launch/patient launch/encounter offline_access patient/*.rs user/*.rs',
};

/** The answers a test gives, by need: a value, or a function of the question. */
type Given = { [K in keyof Needs]?: Needs[K][1] | ((ask: Needs[K][0]) => Needs[K][1]) };

/** Runs a step to its outcome with the answers given (a need not given fails the test); returns what was asked too. */
async function run(step: Step, given: Given = {}): Promise<{ outcome: Outcome; asked: [keyof Needs, unknown][] }> {
  const asked: [keyof Needs, unknown][] = [];
  const answers = new Proxy({} as Answers, {
    get: (_t, name: keyof Needs) => async (ask: unknown) => {
      asked.push([name, ask]);
      if (!(name in given)) throw new Error(`The flow asked for ${name}, which the test does not answer`);
      const a = given[name];
      return typeof a === 'function' ? (a as (ask: unknown) => unknown)(ask) : a;
    },
  });
  return { outcome: await flow.outcomeOf(step, answers), asked };
}

const needsOf = (asked: [keyof Needs, unknown][]) => asked.map(([name]) => name);

const authorizeParams = (over: Record<string, string> = {}, drop?: string) => {
  const params: Record<string, string> = {
    response_type: 'code',
    client_id: 'app',
    redirect_uri: REDIRECT,
    scope: 'openid fhirUser launch/patient patient/*.rs',
    state: 'xyz',
    aud: SETTINGS.fhirBase,
    code_challenge: CHALLENGE,
    code_challenge_method: 'S256',
    ...over,
  };
  if (drop) delete params[drop];
  return params;
};

const request = (over: Partial<AuthorizationRequest> = {}): AuthorizationRequest => ({
  clientId: 'app',
  clientName: 'Appli de coordination',
  redirectUri: REDIRECT,
  state: 'xyz',
  scope: 'openid fhirUser patient/*.rs',
  codeChallenge: CHALLENGE,
  pickPatient: false,
  pickEncounter: false,
  ...over,
});

const session = (over: Partial<LoginState> = {}, req: Partial<AuthorizationRequest> = {}): LoginState => ({ csrf: 'the-csrf', request: request(req), ...over });
const USER = { id: 'u-1', practitionerId: 'dr-martin', authTime: NOW - 60 };
const ROLES = [
  { id: 'role-msp', label: 'Médecin généraliste — MSP des Tilleuls' },
  { id: 'role-ssiad', label: 'Médecin coordonnateur — SSIAD du Val' },
];

describe('the authorization request', () => {
  it('starts a login session for a good request, with only the scopes that may be granted', async () => {
    const { outcome, asked } = await run(
      flow.authorize(authorizeParams({ scope: 'openid launch patient/*.rs user/*.rs system/*.rs', nonce: 'n-1' }), SETTINGS),
      { client: CLIENT },
    );
    expect(asked).toEqual([['client', 'app']]);
    expect(outcome).toEqual({
      session: {
        start: request({ scope: 'openid user/*.rs', nonce: 'n-1' }),
      },
      reply: { goTo: 'login' },
    });
  });

  it('asks for a patient, then an encounter, in a standalone launch', async () => {
    const { outcome } = await run(flow.authorize(authorizeParams({ scope: 'launch/encounter patient/*.rs' }), SETTINGS), { client: CLIENT });
    expect(outcome.session).toEqual({ start: request({ scope: 'launch/encounter patient/*.rs', pickPatient: true, pickEncounter: true }) });
  });

  it('refuses a repeated parameter, an unknown client or an unregistered redirect URI on a page, never redirecting', async () => {
    const repeated = await run(flow.authorize(undefined, SETTINGS));
    expect(repeated.outcome).toEqual({ reply: { status: 400, page: { name: 'error', message: 'Requête invalide : un paramètre est répété.' } } });
    const noClientId = await run(flow.authorize(authorizeParams({}, 'client_id'), SETTINGS));
    expect(noClientId.asked).toEqual([]);
    expect(noClientId.outcome.reply).toEqual({ status: 400, page: { name: 'error', message: 'Application inconnue (client_id).' } });
    expect((await run(flow.authorize(authorizeParams({ client_id: 'nobody' }), SETTINGS), { client: undefined })).outcome.reply).toMatchObject({ status: 400 });
    const evil = await run(flow.authorize(authorizeParams({ redirect_uri: 'https://evil.example/cb' }), SETTINGS), { client: CLIENT });
    expect(evil.outcome).toEqual({
      reply: { status: 400, page: { name: 'error', message: "L'adresse de retour (redirect_uri) n'est pas celle enregistrée pour cette application." } },
    });
  });

  it('sends the other faults back to the app, with its state', async () => {
    const back = async (params: Record<string, string>, client = CLIENT) => {
      const { outcome } = await run(flow.authorize(params, SETTINGS), { client });
      expect(outcome.session).toBeUndefined();
      const reply = outcome.reply as { toApp: string; params: Record<string, string> };
      expect(reply.toApp).toBe(REDIRECT);
      return reply.params;
    };
    expect(await back(authorizeParams({ response_type: 'token' }))).toEqual({
      error: 'unsupported_response_type',
      error_description: 'response_type must be code',
      state: 'xyz',
    });
    expect((await back(authorizeParams({}, 'state'))).error).toBe('invalid_request');
    expect((await back(authorizeParams({ aud: 'https://other.example/fhir' }))).error_description).toBe(
      "aud must be this server's FHIR base, https://maillage.example/fhir",
    );
    expect((await back(authorizeParams({ scope: 'system/*.cruds' }))).error).toBe('invalid_scope');
    expect((await back(authorizeParams(), { ...CLIENT, grantTypes: ['client_credentials'] })).error).toBe('unauthorized_client');
    // A trailing slash on aud is the same base.
    expect((await run(flow.authorize(authorizeParams({ aud: `${SETTINGS.fhirBase}/` }), SETTINGS), { client: CLIENT })).outcome.reply).toEqual({
      goTo: 'login',
    });
  });

  it('requires PKCE with S256 and a well-formed challenge', async () => {
    const pkce = 'PKCE is required: code_challenge with code_challenge_method S256';
    for (const params of [
      authorizeParams({}, 'code_challenge'),
      authorizeParams({}, 'code_challenge_method'),
      authorizeParams({ code_challenge_method: 'plain' }),
      authorizeParams({ code_challenge: CHALLENGE.slice(1) }),
      authorizeParams({ code_challenge: `${CHALLENGE.slice(1)}=` }),
    ]) {
      const { outcome } = await run(flow.authorize(params, SETTINGS), { client: CLIENT });
      expect(outcome.reply).toEqual({ toApp: REDIRECT, params: { error: 'invalid_request', error_description: pkce, state: 'xyz' } });
    }
  });

  it('uses an EHR launch handle once the rest checks out, and refuses an unknown, expired or used one', async () => {
    const context = { patient: 'pat-1', encounter: 'enc-1', need_patient_banner: false };
    const params = authorizeParams({ launch: 'handle-1', scope: 'launch launch/encounter patient/*.rs' });
    const { outcome, asked } = await run(flow.authorize(params, SETTINGS), { client: CLIENT, launch: context });
    expect(asked).toEqual([
      ['client', 'app'],
      ['launch', { handle: 'handle-1', clientId: 'app' }],
    ]);
    expect(outcome.session).toEqual({ start: request({ scope: 'launch launch/encounter patient/*.rs', launch: context }) });

    const used = await run(flow.authorize(params, SETTINGS), { client: CLIENT, launch: undefined });
    expect(used.outcome.reply).toEqual({
      toApp: REDIRECT,
      params: { error: 'invalid_request', error_description: 'Unknown, expired or already used launch', state: 'xyz' },
    });

    // A faulty request does not spend the handle.
    const faulty = await run(flow.authorize({ ...params, code_challenge_method: 'plain' }, SETTINGS), { client: CLIENT });
    expect(needsOf(faulty.asked)).toEqual(['client']);
  });
});

describe('the login session', () => {
  const event = (s: LoginState): Step => ({ reply: { goTo: s.user ? 'consent' : 'login' } });

  it('refuses an expired, ended or unknown session (a page replayed after the end)', async () => {
    expect((await run(flow.inSession(undefined, undefined, event))).outcome).toEqual({
      reply: { status: 400, page: { name: 'error', message: 'Votre session de connexion a expiré ou n’existe pas : relancez l’application.' } },
    });
  });

  it('refuses a form without the session’s CSRF token', async () => {
    for (const csrf of ['forged', undefined]) {
      expect((await run(flow.inSession(session(), { csrf }, event))).outcome.reply).toEqual({
        status: 403,
        page: { name: 'error', message: 'Ce formulaire ne vient pas de cette session de connexion.' },
      });
    }
    expect((await run(flow.inSession(session(), { csrf: 'the-csrf' }, event))).outcome.reply).toEqual({ goTo: 'login' });
    expect((await run(flow.inSession(session({ user: USER }), undefined, event))).outcome.reply).toEqual({ goTo: 'consent' });
  });
});

describe('login by password', () => {
  it('shows the login page, or goes on to consent once logged in', async () => {
    expect((await run(flow.showLogin(session(), SETTINGS))).outcome).toEqual({
      reply: { status: 200, page: { name: 'login', clientName: 'Appli de coordination', csrf: 'the-csrf', password: true, oidcName: 'Pro Santé Connect' } },
    });
    expect((await run(flow.showLogin(session({ user: USER }), SETTINGS))).outcome).toEqual({ reply: { goTo: 'consent' } });
  });

  it('logs the user in, remembering when, and traces it', async () => {
    const { outcome, asked } = await run(flow.passwordLogin(session(), SETTINGS, { username: 'claire', password: 'secret' }, NOW), {
      password: { id: 'u-1', practitionerId: 'dr-martin' },
    });
    expect(asked).toEqual([['password', { username: 'claire', password: 'secret' }]]);
    expect(outcome).toEqual({
      session: { save: session({ user: { id: 'u-1', practitionerId: 'dr-martin', authTime: NOW } }) },
      reply: { goTo: 'consent' },
      trace: { how: 'password', status: 200, actor: { clientId: 'app', fhirUser: 'Practitioner/dr-martin' } },
    });
  });

  it('shows the page again with 401 for a wrong password, and traces the name tried', async () => {
    const { outcome } = await run(flow.passwordLogin(session(), SETTINGS, { username: 'claire', password: 'wrong' }, NOW), { password: undefined });
    expect(outcome).toEqual({
      reply: {
        status: 401,
        page: {
          name: 'login',
          clientName: 'Appli de coordination',
          csrf: 'the-csrf',
          password: true,
          oidcName: 'Pro Santé Connect',
          error: 'Identifiant ou mot de passe incorrect.',
        },
      },
      trace: {
        how: 'password',
        status: 401,
        actor: { clientId: 'app', user: { system: USERNAME_SYSTEM, value: 'claire' } },
        diagnostics: 'Unknown user name or wrong password',
      },
    });
  });

  it('checks no password when password logins are off', async () => {
    const off = { ...SETTINGS, passwordLogin: false };
    const { outcome, asked } = await run(flow.passwordLogin(session(), off, { username: 'claire', password: 'secret' }, NOW));
    expect(asked).toEqual([]);
    expect(outcome.reply).toEqual({ status: 403, page: { name: 'error', message: 'La connexion par mot de passe est désactivée.' } });
    expect((await run(flow.showLogin(session(), off))).outcome.reply).toMatchObject({ page: { name: 'login', password: false } });
  });
});

describe('login through the OpenID Connect provider (Pro Santé Connect)', () => {
  const checks = { state: 'st', nonce: 'no', verifier: 'ver' };

  it('sends the user to the provider, keeping what the callback must find', async () => {
    const { outcome } = await run(flow.oidcLogin(session(), SETTINGS), { oidcStart: { url: 'https://psc.example/authorize?x', checks } });
    expect(outcome).toEqual({ session: { save: session({ oidc: checks }) }, reply: { redirect: 'https://psc.example/authorize?x' } });
  });

  it('says so when the provider does not answer, or when there is none', async () => {
    expect((await run(flow.oidcLogin(session(), SETTINGS), { oidcStart: undefined })).outcome.reply).toEqual({
      status: 502,
      page: { name: 'error', message: 'Pro Santé Connect ne répond pas : réessayez plus tard.' },
    });
    const none = { ...SETTINGS, oidcName: undefined };
    expect((await run(flow.oidcLogin(session(), none))).outcome.reply).toMatchObject({ status: 404 });
    expect((await run(flow.oidcCallback(session({ oidc: checks }), none, '/auth/oidc/callback?code=c', NOW))).outcome.reply).toMatchObject({ status: 400 });
  });

  it('spends the checks before finishing, then logs in the user of that IDNPS with the acr', async () => {
    const callback = '/auth/oidc/callback?code=c&state=st';
    const { outcome, asked } = await run(flow.oidcCallback(session({ oidc: checks }), SETTINGS, callback, NOW), {
      save: undefined,
      oidcFinish: { idnps: '810000000001', acr: 'eidas1', claims: {} },
      professional: { id: 'u-1', practitionerId: 'dr-martin' },
    });
    expect(asked).toEqual([
      ['save', session()],
      ['oidcFinish', { callbackUrl: callback, checks }],
      ['professional', '810000000001'],
    ]);
    expect(outcome).toEqual({
      session: { save: session({ user: { id: 'u-1', practitionerId: 'dr-martin', authTime: NOW, acr: 'eidas1' } }) },
      reply: { goTo: 'consent' },
      trace: { how: 'oidc', status: 200, actor: { clientId: 'app', fhirUser: 'Practitioner/dr-martin' } },
    });
  });

  it('refuses a replayed callback: its checks are spent', async () => {
    let saved: LoginState | undefined;
    await run(flow.oidcCallback(session({ oidc: checks }), SETTINGS, '/cb', NOW), { save: (s) => void (saved = s), oidcFinish: undefined });
    const replay = await run(flow.oidcCallback(saved as LoginState, SETTINGS, '/cb', NOW));
    expect(replay.asked).toEqual([]);
    expect(replay.outcome.reply).toEqual({ status: 400, page: { name: 'error', message: 'Aucune connexion n’est en cours.' } });
  });

  it('refuses a login the provider did not confirm, and a professional without a user here, tracing both', async () => {
    const refused = await run(flow.oidcCallback(session({ oidc: checks }), SETTINGS, '/cb', NOW), { save: undefined, oidcFinish: undefined });
    expect(refused.outcome).toEqual({
      reply: { status: 401, page: { name: 'error', message: 'La connexion avec Pro Santé Connect n’a pas abouti.' } },
      trace: { how: 'oidc', status: 401, actor: { clientId: 'app' }, diagnostics: 'Pro Santé Connect refused the login' },
    });
    const stranger = await run(flow.oidcCallback(session({ oidc: checks }), SETTINGS, '/cb', NOW), {
      save: undefined,
      oidcFinish: { idnps: '810000000002', claims: {} },
      professional: undefined,
    });
    expect(stranger.outcome).toEqual({
      reply: { status: 403, page: { name: 'error', message: 'Vous n’avez pas de compte sur ce Maillage : demandez-le à la coordination du pôle.' } },
      trace: {
        how: 'oidc',
        status: 403,
        actor: { clientId: 'app', user: { system: IDNPS_SYSTEM, value: '810000000002' } },
        diagnostics: 'No Maillage user for this professional',
      },
    });
  });
});

describe('the role and the consent', () => {
  it('asks for a login first', async () => {
    expect((await run(flow.showConsent(session(), SETTINGS))).outcome).toEqual({ reply: { goTo: 'login' } });
    expect((await run(flow.consent(session(), SETTINGS, { decision: 'allow', role: 'role-msp' }))).outcome).toEqual({ reply: { goTo: 'login' } });
  });

  it('shows the scopes asked and the user’s roles, or refuses a user without any', async () => {
    const { outcome, asked } = await run(flow.showConsent(session({ user: USER }), SETTINGS), { roles: ROLES });
    expect(asked).toEqual([['roles', 'dr-martin']]);
    expect(outcome.reply).toEqual({
      status: 200,
      page: { name: 'consent', clientName: 'Appli de coordination', csrf: 'the-csrf', scope: 'openid fhirUser patient/*.rs', roles: ROLES },
    });
    expect((await run(flow.showConsent(session({ user: USER }), SETTINGS), { roles: [] })).outcome.reply).toEqual({
      status: 403,
      page: { name: 'error', message: 'Aucune situation d’exercice active ne vous est rattachée dans ce Maillage.' },
    });
  });

  it('asks no consent for the pôle’s own app: with one role the user goes on in it, with several the page lets them choose', async () => {
    const own = (user = USER) => session({ user }, { clientId: COORDINATION_APP_CLIENT_ID });
    const one = await run(flow.showConsent(own(), SETTINGS), { roles: [ROLES[0]], code: 'the-code' });
    expect(one.outcome).toEqual({ session: 'end', reply: { toApp: REDIRECT, params: { code: 'the-code', state: 'xyz' } } });
    const several = await run(flow.showConsent(own(), SETTINGS), { roles: ROLES });
    expect(several.outcome.reply).toMatchObject({ status: 200, page: { name: 'consent' } });
  });

  it('sends a refusal back to the app and ends the session', async () => {
    const { outcome, asked } = await run(flow.consent(session({ user: USER }), SETTINGS, { decision: 'deny' }));
    expect(asked).toEqual([]);
    expect(outcome).toEqual({
      session: 'end',
      reply: { toApp: REDIRECT, params: { error: 'access_denied', error_description: 'The user refused', state: 'xyz' } },
    });
  });

  it('refuses a role that is not the user’s', async () => {
    const { outcome } = await run(flow.consent(session({ user: USER }), SETTINGS, { decision: 'allow', role: 'role-of-someone-else' }), { roles: ROLES });
    expect(outcome).toEqual({ reply: { status: 400, page: { name: 'error', message: 'Ce rôle ne vous est pas rattaché.' } } });
  });

  it('issues the code with the role in the context, ends the session and sends the code back', async () => {
    const state = session({ user: { ...USER, acr: 'eidas1' } }, { nonce: 'n-1' });
    const { outcome, asked } = await run(flow.consent(state, SETTINGS, { decision: 'allow', role: 'role-ssiad' }), { roles: ROLES, code: 'the-code' });
    expect(asked[1]).toEqual([
      'code',
      {
        clientId: 'app',
        userId: 'u-1',
        scope: 'openid fhirUser patient/*.rs',
        redirectUri: REDIRECT,
        codeChallenge: CHALLENGE,
        nonce: 'n-1',
        context: {
          fhirContext: [{ reference: 'PractitionerRole/role-ssiad', role: ACTING_AS }],
          smart_style_url: 'https://maillage.example/auth/smart-style.json',
          fhirUser: 'https://maillage.example/fhir/Practitioner/dr-martin',
          role: 'role-ssiad',
          authTime: USER.authTime,
          acr: 'eidas1',
        },
      },
    ]);
    expect(outcome).toEqual({ session: 'end', reply: { toApp: REDIRECT, params: { code: 'the-code', state: 'xyz' } } });
  });

  it('goes on to the pickers of a standalone launch', async () => {
    const patient = await run(
      flow.consent(session({ user: USER }, { pickPatient: true, pickEncounter: true }), SETTINGS, { decision: 'allow', role: 'role-msp' }),
      { roles: ROLES },
    );
    expect(patient.outcome).toEqual({
      session: { save: session({ user: USER, role: 'role-msp' }, { pickPatient: true, pickEncounter: true }) },
      reply: { goTo: 'patient' },
    });
    const launch = { patient: 'pat-1' };
    const encounter = await run(flow.consent(session({ user: USER }, { launch, pickEncounter: true }), SETTINGS, { decision: 'allow', role: 'role-msp' }), {
      roles: ROLES,
    });
    expect(encounter.outcome.reply).toEqual({ goTo: 'encounter' });
  });
});

describe('the patient and encounter pickers', () => {
  const picking = (over: Partial<LoginState> = {}) =>
    session({ user: USER, role: 'role-msp', ...over }, { pickPatient: true, scope: 'launch/patient patient/*.rs' });
  const pickerAccess = (type: string) => ({
    clientId: 'app',
    subject: 'u-1',
    scope: `user/${type}.rs`,
    fhirUser: 'https://maillage.example/fhir/Practitioner/dr-martin',
    role: 'role-msp',
  });

  it('wants a login and a role first', async () => {
    expect((await run(flow.showPatients(session({ user: USER }), SETTINGS, ''))).outcome).toEqual({ reply: { goTo: 'consent' } });
    expect((await run(flow.pickPatient(session({ user: USER, role: 'role-msp' }), SETTINGS, { patient: 'pat-1' }))).outcome).toEqual({
      reply: { goTo: 'consent' },
    });
    expect((await run(flow.showEncounters(picking(), SETTINGS))).outcome).toEqual({ reply: { goTo: 'consent' } });
  });

  it('searches the patients as the user in the role chosen', async () => {
    const { outcome, asked } = await run(flow.showPatients(picking(), SETTINGS, 'Durand'), { patients: [{ id: 'pat-1', label: 'Jeanne Durand' }] });
    expect(asked).toEqual([['patients', { name: 'Durand', access: expect.objectContaining(pickerAccess('Patient')) }]]);
    expect(outcome.reply).toEqual({
      status: 200,
      page: { name: 'patient', csrf: 'the-csrf', query: 'Durand', patients: [{ id: 'pat-1', label: 'Jeanne Durand' }], searched: true },
    });
  });

  it('refuses a patient that is malformed or out of the user’s reach, without looking for a malformed one', async () => {
    const refused = { reply: { status: 400, page: { name: 'error', message: 'Ce patient n’existe pas.' } } };
    const malformed = await run(flow.pickPatient(picking(), SETTINGS, { patient: '../Patient/x' }));
    expect(malformed).toEqual({ outcome: refused, asked: [] });
    expect((await run(flow.pickPatient(picking(), SETTINGS, {}))).outcome).toEqual(refused);
    expect((await run(flow.pickPatient(picking(), SETTINGS, { patient: 'pat-2' }), { patientExists: false })).outcome).toEqual(refused);
  });

  it('sends the patient picked in the code’s context, with the banner', async () => {
    const { outcome, asked } = await run(flow.pickPatient(picking(), SETTINGS, { patient: 'pat-1' }), { patientExists: true, code: 'c-1' });
    expect(asked[0]).toEqual(['patientExists', { id: 'pat-1', access: expect.objectContaining(pickerAccess('Patient')) }]);
    expect(asked[1]).toMatchObject(['code', { context: { patient: 'pat-1', need_patient_banner: true } }]);
    expect(outcome).toEqual({ session: 'end', reply: { toApp: REDIRECT, params: { code: 'c-1', state: 'xyz' } } });
  });

  it('keeps the patient picked and goes on to their encounters', async () => {
    const state = session({ user: USER, role: 'role-msp' }, { pickPatient: true, pickEncounter: true });
    const { outcome } = await run(flow.pickPatient(state, SETTINGS, { patient: 'pat-1' }), { patientExists: true });
    expect(outcome).toEqual({ session: { save: { ...state, patient: 'pat-1' } }, reply: { goTo: 'encounter' } });

    const encounters = [{ id: 'enc-1', label: 'Consultation, le 02/03/2026' }];
    const shown = await run(flow.showEncounters({ ...state, patient: 'pat-1' }, SETTINGS), { encounters });
    expect(shown.asked).toEqual([['encounters', { patient: 'pat-1', access: expect.objectContaining(pickerAccess('Encounter')) }]]);
    expect(shown.outcome.reply).toEqual({ status: 200, page: { name: 'encounter', csrf: 'the-csrf', encounters } });
  });

  it('accepts only one of the patient’s encounters, then sends both in the context', async () => {
    const state = session({ user: USER, role: 'role-msp', patient: 'pat-1' }, { pickPatient: true, pickEncounter: true });
    const foreign = { reply: { status: 400, page: { name: 'error', message: 'Cette rencontre n’est pas celle du patient choisi.' } } };
    expect((await run(flow.pickEncounter(state, SETTINGS, { encounter: 'enc of another' }))).outcome).toEqual(foreign);
    const other = await run(flow.pickEncounter(state, SETTINGS, { encounter: 'enc-9' }), { encounters: [] });
    expect(other.asked).toEqual([['encounters', { patient: 'pat-1', id: 'enc-9', access: expect.objectContaining(pickerAccess('Encounter')) }]]);
    expect(other.outcome).toEqual(foreign);
    const { outcome, asked } = await run(flow.pickEncounter(state, SETTINGS, { encounter: 'enc-1' }), {
      encounters: [{ id: 'enc-1', label: '' }],
      code: 'c-2',
    });
    expect(asked[1]).toMatchObject(['code', { context: { patient: 'pat-1', encounter: 'enc-1' } }]);
    expect(outcome.reply).toEqual({ toApp: REDIRECT, params: { code: 'c-2', state: 'xyz' } });
  });

  it('picks the encounter of the EHR launch’s patient', async () => {
    const launch = { patient: 'pat-7', need_patient_banner: false, fhirContext: [{ reference: 'Encounter/enc-0' }] };
    const state = session({ user: USER, role: 'role-msp' }, { launch, pickEncounter: true });
    const { asked } = await run(flow.pickEncounter(state, SETTINGS, { encounter: 'enc-7' }), { encounters: [{ id: 'enc-7', label: '' }], code: 'c-3' });
    expect(asked[0]).toMatchObject(['encounters', { patient: 'pat-7', id: 'enc-7' }]);
    expect((asked[1][1] as CodeRequest).context).toMatchObject({
      patient: 'pat-7',
      encounter: 'enc-7',
      need_patient_banner: false,
      fhirContext: [{ reference: 'Encounter/enc-0' }, { reference: 'PractitionerRole/role-msp', role: ACTING_AS }],
    });
  });
});

describe('a whole standalone launch', () => {
  it('walks from the request to the code, the session carrying each step', async () => {
    let state: LoginState | undefined;
    const step = async (s: Step, given: Given = {}) => {
      const { outcome } = await run(s, given);
      const kept = outcome.session;
      if (kept && kept !== 'end') state = 'start' in kept ? { csrf: 'the-csrf', request: kept.start } : kept.save;
      if (kept === 'end') state = undefined;
      return outcome.reply;
    };
    expect(await step(flow.authorize(authorizeParams({ scope: 'openid launch/patient launch/encounter patient/*.rs' }), SETTINGS), { client: CLIENT })).toEqual(
      { goTo: 'login' },
    );
    expect(await step(flow.inSession(state, undefined, (s) => flow.showLogin(s, SETTINGS)))).toMatchObject({ status: 200, page: { name: 'login' } });
    const login = (s: LoginState) => flow.passwordLogin(s, SETTINGS, { username: 'claire', password: 'secret' }, NOW);
    expect(await step(flow.inSession(state, { csrf: 'the-csrf' }, login), { password: { id: 'u-1', practitionerId: 'dr-martin' } })).toEqual({
      goTo: 'consent',
    });
    expect(
      await step(
        flow.inSession(state, { csrf: 'the-csrf' }, (s) => flow.consent(s, SETTINGS, { decision: 'allow', role: 'role-msp' })),
        { roles: ROLES },
      ),
    ).toEqual({ goTo: 'patient' });
    expect(
      await step(
        flow.inSession(state, { csrf: 'the-csrf' }, (s) => flow.pickPatient(s, SETTINGS, { patient: 'pat-1' })),
        { patientExists: true },
      ),
    ).toEqual({ goTo: 'encounter' });
    const code = await step(
      flow.inSession(state, { csrf: 'the-csrf' }, (s) => flow.pickEncounter(s, SETTINGS, { encounter: 'enc-1' })),
      {
        encounters: [{ id: 'enc-1', label: '' }],
        code: 'the-code',
      },
    );
    expect(code).toEqual({ toApp: REDIRECT, params: { code: 'the-code', state: 'xyz' } });
    // The session is over: the same form again finds none.
    expect(await step(flow.inSession(state, { csrf: 'the-csrf' }, (s) => flow.pickEncounter(s, SETTINGS, { encounter: 'enc-1' })))).toMatchObject({
      status: 400,
    });
  });
});
