import type { Encounter, HumanName, Organization, Patient, PractitionerRole, Resource } from '@medplum/fhirtypes';
import { parse as parseCookies, serialize } from 'cookie';
import express, { type Request, type RequestHandler, type Response } from 'express';
import { USERNAME_SYSTEM, type Actor } from '../audit/event.js';
import { AuthorizationError, checkAuthorizationRequest } from '../auth/authorization.js';
import type { GrantContext } from '../auth/grants.js';
import { IDNPS_SYSTEM } from '../auth/oidc-login.js';
import type { AuthServer } from '../auth/service.js';
import { parseResourceScopes } from '../auth/scopes.js';
import { SESSION_MAX_AGE, type LoginState } from '../auth/sessions.js';
import type { Access } from '../auth/tokens.js';
import { ID_RE } from '../fhir/ids.js';
import type { AuditSink } from '../interactions/context.js';
import { traceLogin } from './auth.js';
import { consentPage, encounterPage, errorPage, loginPage, patientPage, type Choice } from './auth-pages.js';
import { exists, searchResources, type LookupContext } from './fhir-lookup.js';
import { addressKey, failureLimit } from './rate-limits.js';

/** The fhirContext role of the PractitionerRole the user acts in. */
export const ACTING_AS = 'urn:maillage:fhir-context-role:acting-as';
const COOKIE = 'maillage_login';

export interface AuthorizeDeps {
  auth: AuthServer;
  passwordLogin: boolean;
  lookup: LookupContext;
  /** Failed password logins allowed per address and username in 15 minutes. */
  loginAttempts: number;
  /** Failed password logins allowed per address, whatever the username, in 15 minutes. */
  addressLoginAttempts: number;
  /** Where logins, accepted or refused, are traced. */
  audit?: AuditSink;
}

type SessionHandler = (req: Request, res: Response, sid: string, state: LoginState) => Promise<void>;

function sendPage(res: Response, status: number, html: string): void {
  res.status(status);
  res.setHeader('Content-Type', 'text/html; charset=utf-8');
  res.setHeader('Cache-Control', 'no-store');
  // No script at all, no framing (clickjacking); its inline style only. No referrer, no framing
  // either (X-Frame-Options), as every response: security-headers.ts.
  res.setHeader('Content-Security-Policy', "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'");
  res.end(html);
}

/** Sends the browser back to the app with `params` (an error, or the code). */
function backToApp(res: Response, redirectUri: string, params: Record<string, string | undefined>): void {
  const url = new URL(redirectUri);
  for (const [k, v] of Object.entries(params)) if (v !== undefined) url.searchParams.set(k, v);
  res.setHeader('Cache-Control', 'no-store');
  res.setHeader('Referrer-Policy', 'no-referrer');
  res.redirect(303, url.href);
}

/** The parameters of a request, each once: OAuth forbids repeating one (RFC 6749 §3.1). */
function singleParams(source: URLSearchParams): Record<string, string> | undefined {
  const out: Record<string, string> = {};
  for (const [k, v] of source) {
    if (k in out) return undefined;
    out[k] = v;
  }
  return out;
}

const nameOf = (names: HumanName[] | undefined) => {
  const n = names?.[0];
  return n ? [n.prefix?.join(' '), n.given?.join(' '), n.family].filter(Boolean).join(' ') || n.text || '' : '';
};

function roleChoices(found: Resource[]): Choice[] {
  const orgs = new Map(found.filter((r): r is Organization => r.resourceType === 'Organization').map((o) => [`Organization/${o.id}`, o.name]));
  return found
    .filter((r): r is PractitionerRole => r.resourceType === 'PractitionerRole' && r.active !== false)
    .map((r) => {
      const what = r.code?.[0]?.text ?? r.code?.[0]?.coding?.[0]?.display ?? r.specialty?.[0]?.coding?.[0]?.display ?? 'Rôle';
      const where = (r.organization?.reference && orgs.get(r.organization.reference)) ?? r.organization?.display;
      return { id: r.id as string, label: where ? `${what} — ${where}` : what };
    });
}

/** 1940-02-03 as 03/02/1940; partial dates as they are. */
const frenchDate = (date: string) => date.split('-').reverse().join('/');

function patientChoices(found: Resource[]): Choice[] {
  return found
    .filter((r): r is Patient => r.resourceType === 'Patient')
    .map((p) => ({ id: p.id as string, label: [nameOf(p.name) || p.id, p.birthDate ? `né(e) le ${frenchDate(p.birthDate)}` : ''].filter(Boolean).join(', ') }));
}

function encounterChoices(found: Resource[]): Choice[] {
  return found
    .filter((r): r is Encounter => r.resourceType === 'Encounter')
    .map((e) => {
      const what = e.type?.[0]?.text ?? e.type?.[0]?.coding?.[0]?.display ?? e.class?.display ?? e.class?.code ?? 'Rencontre';
      const when = e.period?.start ? `le ${frenchDate(e.period.start.slice(0, 10))}` : '';
      const where = e.serviceProvider?.display ?? '';
      return { id: e.id as string, label: [what, when, where].filter(Boolean).join(', ') };
    });
}

/**
 * /auth/authorize and the pages behind it: login (local password or the OpenID Connect
 * provider), choice of the role the user acts in with consent, the patient and encounter
 * pickers of a standalone launch; then the code goes back to the app. The state lives in a
 * login session (database) named by an HttpOnly, SameSite=Lax cookie; every form carries its
 * CSRF token.
 */
export function authorizeRouter(d: AuthorizeDeps): express.Router {
  const router = express.Router();
  const trace = (req: Request, how: string, status: number, actor: Actor, diagnostics?: string) =>
    traceLogin(d.audit, req, d.auth.fhirBase, { how, status, actor, diagnostics });
  const form = express.urlencoded({ extended: false, limit: '16kb' });
  const secure = d.auth.origin.startsWith('https:');
  const setCookie = (res: Response, value: string, maxAge: number) =>
    res.append('Set-Cookie', serialize(COOKIE, value, { httpOnly: true, sameSite: 'lax', secure, path: '/auth', maxAge }));

  const authorize: RequestHandler = async (req, res) => {
    const source = new URLSearchParams(req.originalUrl.split('?')[1] ?? '');
    if (req.method === 'POST') {
      for (const [k, v] of Object.entries((req.body ?? {}) as Record<string, string | string[]>)) for (const one of [v].flat()) source.append(k, one);
    }
    const params = singleParams(source);
    if (!params) return sendPage(res, 400, errorPage('Requête invalide : un paramètre est répété.'));
    try {
      const request = await checkAuthorizationRequest(params, { clients: d.auth.clients, launches: d.auth.launches, fhirBase: d.auth.fhirBase });
      const { id } = await d.auth.sessions.start(request);
      setCookie(res, id, SESSION_MAX_AGE);
      res.redirect(303, 'login');
    } catch (err) {
      if (!(err instanceof AuthorizationError)) throw err;
      if (!err.redirect) return sendPage(res, 400, errorPage(err.description));
      backToApp(res, params.redirect_uri, { error: err.error, error_description: err.description, state: params.state });
    }
  };
  router.get('/authorize', authorize);
  router.post('/authorize', form, authorize);

  const session =
    (handle: SessionHandler): RequestHandler =>
    async (req, res) => {
      const sid = parseCookies(req.get('cookie') ?? '')[COOKIE];
      const state = sid ? await d.auth.sessions.get(sid) : undefined;
      if (!sid || !state) return sendPage(res, 400, errorPage('Votre session de connexion a expiré ou n’existe pas : relancez l’application.'));
      if (req.method === 'POST' && (req.body as Record<string, string> | undefined)?.csrf !== state.csrf) {
        return sendPage(res, 403, errorPage('Ce formulaire ne vient pas de cette session de connexion.'));
      }
      await handle(req, res, sid, state);
    };

  const showLogin = (res: Response, state: LoginState, status = 200, error?: string) =>
    sendPage(
      res,
      status,
      loginPage({ clientName: state.request.clientName, csrf: state.csrf, password: d.passwordLogin, oidcName: d.auth.oidc?.name, error }),
    );

  router.get(
    '/login',
    session(async (_req, res, _sid, state) => (state.user ? res.redirect(303, 'consent') : showLogin(res, state))),
  );

  // Failed logins, per address and user name (guessing one password), and per address across
  // user names (trying a few passwords on many).
  const tooMany = (_req: Request, res: Response) => sendPage(res, 429, errorPage('Trop de tentatives de connexion : réessayez dans un quart d’heure.'));
  const username = (req: Request) => String((req.body as Record<string, string>)?.username ?? '').toLowerCase();
  const perUsername = failureLimit({ limit: d.loginAttempts, key: (req) => `${addressKey(req)}|${username(req)}`, refuse: tooMany });
  const perAddress = failureLimit({ limit: d.addressLoginAttempts, key: addressKey, refuse: tooMany });
  router.post(
    '/login',
    form,
    perUsername,
    perAddress,
    session(async (req, res, sid, state) => {
      if (!d.passwordLogin) return sendPage(res, 403, errorPage('La connexion par mot de passe est désactivée.'));
      const { username = '', password = '' } = req.body as Record<string, string>;
      const user = await d.auth.users.passwordLogin(username, password);
      const clientId = state.request.clientId;
      if (!user) {
        trace(req, 'password', 401, { clientId, user: { system: USERNAME_SYSTEM, value: username } }, 'Unknown user name or wrong password');
        return showLogin(res, state, 401, 'Identifiant ou mot de passe incorrect.');
      }
      trace(req, 'password', 200, { clientId, fhirUser: `Practitioner/${user.practitionerId}` });
      state.user = { id: user.id, practitionerId: user.practitionerId, authTime: Math.floor(Date.now() / 1000) };
      await d.auth.sessions.save(sid, state);
      res.redirect(303, 'consent');
    }),
  );

  router.get(
    '/oidc/login',
    session(async (req, res, sid, state) => {
      if (!d.auth.oidc) return sendPage(res, 404, errorPage('Aucun fournisseur d’identité n’est configuré.'));
      let start;
      try {
        start = await d.auth.oidc.start();
      } catch (err) {
        req.log.error({ err }, 'OpenID Connect provider unreachable');
        return sendPage(res, 502, errorPage(`${d.auth.oidc.name} ne répond pas : réessayez plus tard.`));
      }
      state.oidc = start.checks;
      await d.auth.sessions.save(sid, state);
      res.redirect(303, start.url);
    }),
  );

  router.get(
    '/oidc/callback',
    session(async (req, res, sid, state) => {
      if (!d.auth.oidc || !state.oidc) return sendPage(res, 400, errorPage('Aucune connexion n’est en cours.'));
      const checks = state.oidc;
      state.oidc = undefined;
      await d.auth.sessions.save(sid, state);
      let identity;
      try {
        identity = await d.auth.oidc.finish(new URL(req.originalUrl, d.auth.origin), checks);
      } catch (err) {
        req.log.warn({ err }, 'OpenID Connect login refused');
        trace(req, 'oidc', 401, { clientId: state.request.clientId }, `${d.auth.oidc.name} refused the login`);
        return sendPage(res, 401, errorPage(`La connexion avec ${d.auth.oidc.name} n’a pas abouti.`));
      }
      const practitioners = await searchResources(d.lookup, req.log, 'Practitioner', { identifier: `${IDNPS_SYSTEM}|${identity.idnps}` });
      const user = practitioners.length === 1 ? await d.auth.users.byPractitioner(practitioners[0].id as string) : undefined;
      if (!user) {
        req.log.warn({ idnps: identity.idnps, practitioners: practitioners.length }, 'no Maillage user for this professional');
        trace(req, 'oidc', 403, { clientId: state.request.clientId, user: { system: IDNPS_SYSTEM, value: identity.idnps } }, 'No Maillage user for this professional');
        return sendPage(res, 403, errorPage('Vous n’avez pas de compte sur ce Maillage : demandez-le à la coordination du pôle.'));
      }
      trace(req, 'oidc', 200, { clientId: state.request.clientId, fhirUser: `Practitioner/${user.practitionerId}` });
      state.user = { id: user.id, practitionerId: user.practitionerId, authTime: Math.floor(Date.now() / 1000), acr: identity.acr };
      await d.auth.sessions.save(sid, state);
      res.redirect(303, '../consent');
    }),
  );

  const rolesOf = async (req: Request, practitionerId: string) =>
    roleChoices(
      await searchResources(d.lookup, req.log, 'PractitionerRole', {
        practitioner: `Practitioner/${practitionerId}`,
        _include: 'PractitionerRole:organization',
        _count: '100',
      }),
    );

  router.get(
    '/consent',
    session(async (req, res, _sid, state) => {
      if (!state.user) return res.redirect(303, 'login');
      const roles = await rolesOf(req, state.user.practitionerId);
      if (!roles.length) return sendPage(res, 403, errorPage('Aucune situation d’exercice active ne vous est rattachée dans ce Maillage.'));
      sendPage(res, 200, consentPage({ clientName: state.request.clientName, csrf: state.csrf, scope: state.request.scope, roles }));
    }),
  );

  router.post(
    '/consent',
    form,
    session(async (req, res, sid, state) => {
      if (!state.user) return res.redirect(303, 'login');
      const { decision, role } = req.body as Record<string, string>;
      if (decision !== 'allow') {
        await end(res, sid);
        return backToApp(res, state.request.redirectUri, { error: 'access_denied', error_description: 'The user refused', state: state.request.state });
      }
      if (!(await rolesOf(req, state.user.practitionerId)).some((r) => r.id === role)) {
        return sendPage(res, 400, errorPage('Ce rôle ne vous est pas rattaché.'));
      }
      state.role = role;
      await d.auth.sessions.save(sid, state);
      if (state.request.pickPatient) return res.redirect(303, 'patient');
      if (state.request.pickEncounter) return res.redirect(303, 'encounter');
      await finish(res, sid, state);
    }),
  );

  router.get(
    '/patient',
    session(async (req, res, _sid, state) => {
      if (!state.user || !state.role) return res.redirect(303, 'consent');
      const name = typeof req.query.name === 'string' ? req.query.name.trim() : '';
      const found = await searchResources(d.lookup, req.log, 'Patient', { ...(name ? { name } : {}), _count: '20', _total: 'none' }, pickerAccess(state, 'Patient'));
      sendPage(res, 200, patientPage({ csrf: state.csrf, query: name, patients: patientChoices(found), searched: !!name }));
    }),
  );

  router.post(
    '/patient',
    form,
    session(async (req, res, sid, state) => {
      if (!state.user || !state.role || !state.request.pickPatient) return res.redirect(303, 'consent');
      const patient = (req.body as Record<string, string>).patient ?? '';
      if (!ID_RE.test(patient) || !(await exists(d.lookup, req.log, 'Patient', patient, pickerAccess(state, 'Patient')))) {
        return sendPage(res, 400, errorPage('Ce patient n’existe pas.'));
      }
      if (!state.request.pickEncounter) return finish(res, sid, state, { patient });
      state.patient = patient;
      await d.auth.sessions.save(sid, state);
      res.redirect(303, 'encounter');
    }),
  );

  /** The patient whose encounter is picked: the launch's, or the one just picked. */
  const encounterPatient = (state: LoginState) => state.request.launch?.patient ?? state.patient;
  /** The patient's encounters the user may see, latest first, or the one named (`id`). */
  const encountersOf = (req: Request, state: LoginState, id?: string) =>
    searchResources(
      d.lookup,
      req.log,
      'Encounter',
      { patient: `Patient/${encounterPatient(state)}`, ...(id ? { _id: id } : { _sort: '-date', _count: '20' }), _total: 'none' },
      pickerAccess(state, 'Encounter'),
    );

  router.get(
    '/encounter',
    session(async (req, res, _sid, state) => {
      if (!state.user || !state.role || !state.request.pickEncounter || !encounterPatient(state)) return res.redirect(303, 'consent');
      sendPage(res, 200, encounterPage({ csrf: state.csrf, encounters: encounterChoices(await encountersOf(req, state)) }));
    }),
  );

  router.post(
    '/encounter',
    form,
    session(async (req, res, sid, state) => {
      if (!state.user || !state.role || !state.request.pickEncounter || !encounterPatient(state)) return res.redirect(303, 'consent');
      const encounter = (req.body as Record<string, string>).encounter ?? '';
      if (!ID_RE.test(encounter) || !(await encountersOf(req, state, encounter)).length) {
        return sendPage(res, 400, errorPage('Cette rencontre n’est pas celle du patient choisi.'));
      }
      await finish(res, sid, state, { patient: state.patient, encounter });
    }),
  );

  /** The pickers show the user, in the role chosen, only the patients (and their encounters) of their équipe de soins. */
  function pickerAccess(state: LoginState, type: 'Patient' | 'Encounter'): Access {
    const scope = `user/${type}.rs`;
    const user = state.user as NonNullable<LoginState['user']>;
    return {
      clientId: state.request.clientId,
      subject: user.id,
      scope,
      scopes: parseResourceScopes(scope),
      fhirUser: `${d.auth.fhirBase}/Practitioner/${user.practitionerId}`,
      role: state.role,
      jti: '',
      exp: 0,
    };
  }

  async function end(res: Response, sid: string): Promise<void> {
    await d.auth.sessions.end(sid);
    setCookie(res, '', 0);
  }

  /** Records the grant and sends the code back to the app. */
  async function finish(res: Response, sid: string, state: LoginState, picked: { patient?: string; encounter?: string } = {}): Promise<void> {
    const { request, user, role } = state;
    if (!user || !role) throw new Error('finish() before login and role');
    const launch = request.launch ?? {};
    const patient = launch.patient ?? picked.patient;
    const encounter = launch.encounter ?? picked.encounter;
    const context: GrantContext = {
      ...launch,
      ...(patient ? { patient, need_patient_banner: launch.need_patient_banner ?? true } : {}),
      ...(encounter ? { encounter } : {}),
      fhirContext: [...(launch.fhirContext ?? []), { reference: `PractitionerRole/${role}`, role: ACTING_AS }],
      smart_style_url: launch.smart_style_url ?? `${d.auth.issuer}/smart-style.json`,
      fhirUser: `${d.auth.fhirBase}/Practitioner/${user.practitionerId}`,
      role,
      authTime: user.authTime,
      ...(user.acr ? { acr: user.acr } : {}),
    };
    const code = await d.auth.grants.issueCode({
      clientId: request.clientId,
      userId: user.id,
      scope: request.scope,
      context,
      redirectUri: request.redirectUri,
      codeChallenge: request.codeChallenge,
      nonce: request.nonce,
    });
    await end(res, sid);
    backToApp(res, request.redirectUri, { code, state: request.state });
  }

  router.get('/smart-style.json', (_req, res) => {
    res.json({ color_background: '#f4f6f8', color_highlight: '#000091', color_text: '#1b1b1b', font_family: 'system-ui, sans-serif' });
  });
  return router;
}
