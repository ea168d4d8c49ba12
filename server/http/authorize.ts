import { parse as parseCookies, serialize } from 'cookie';
import express, { type Request, type RequestHandler, type Response } from 'express';
import { encounterChoices, patientChoices, roleChoices } from '../auth/login-choices.js';
import * as flow from '../auth/login-flow.js';
import type { Answers, FlowSettings, Outcome, Page, Reply, Step } from '../auth/login-flow.js';
import { IDNPS_SYSTEM } from '../auth/oidc-login.js';
import type { AuthServer } from '../auth/service.js';
import { SESSION_MAX_AGE, type LoginState } from '../auth/sessions.js';
import type { AuditSink } from '../interactions/context.js';
import { traceLogin } from './auth.js';
import { renderPage } from './auth-pages.js';
import type { ServerContext } from '../interactions/context.js';
import { exists, forRequest, searchResources } from './fhir-lookup.js';
import { addressKey, failureLimit } from './rate-limits.js';

const COOKIE = 'maillage_login';

export interface AuthorizeDeps {
  auth: AuthServer;
  passwordLogin: boolean;
  lookup: ServerContext;
  /** Failed password logins allowed per address and username in 15 minutes. */
  loginAttempts: number;
  /** Failed password logins allowed per address, whatever the username, in 15 minutes. */
  addressLoginAttempts: number;
  /** Where logins, accepted or refused, are traced. */
  audit?: AuditSink;
}

function sendPage(res: Response, status: number, page: Page): void {
  res.status(status);
  res.setHeader('Content-Type', 'text/html; charset=utf-8');
  res.setHeader('Cache-Control', 'no-store');
  // No script at all, no framing (clickjacking); its inline style only. No referrer, no framing
  // either (X-Frame-Options), as every response: security-headers.ts.
  res.setHeader('Content-Security-Policy', "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'");
  res.end(renderPage(page));
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

/** A field of the form posted, when given once. */
function field(req: Request, name: string): string | undefined {
  const value = (req.body as Record<string, unknown> | undefined)?.[name];
  return typeof value === 'string' ? value : undefined;
}

const nowSeconds = () => Math.floor(Date.now() / 1000);

/**
 * /auth/authorize and the pages behind it, over the login flow (auth/login-flow.ts): each route
 * turns its request into an event of the flow, answers what the flow needs from the stores and
 * the OpenID Connect provider, then does what the outcome says. The state lives in a login session
 * (database) named by an HttpOnly, SameSite=Lax cookie.
 */
export function authorizeRouter(d: AuthorizeDeps): express.Router {
  const router = express.Router();
  const settings: FlowSettings = { passwordLogin: d.passwordLogin, oidcName: d.auth.oidc?.name, fhirBase: d.auth.fhirBase, issuer: d.auth.issuer };
  const form = express.urlencoded({ extended: false, limit: '16kb' });
  const secure = d.auth.origin.startsWith('https:');
  const setCookie = (res: Response, value: string, maxAge: number) =>
    res.append('Set-Cookie', serialize(COOKIE, value, { httpOnly: true, sameSite: 'lax', secure, path: '/auth', maxAge }));
  const provider = () => {
    if (!d.auth.oidc) throw new Error('No OpenID Connect provider is configured');
    return d.auth.oidc;
  };

  /** The answers to the flow's needs for one request, in its login session `sid` (none for /authorize). */
  const answers = (req: Request, sid: string | undefined): Answers => {
    const lookup = forRequest(d.lookup, req);
    return {
      client: (clientId) => d.auth.clients.find(clientId),
      launch: ({ handle, clientId }) => d.auth.launches.use(handle, clientId),
      password: ({ username, password }) => d.auth.users.passwordLogin(username, password),
      oidcStart: async () => {
        try {
          return await provider().start();
        } catch (err) {
          req.log.error({ err }, 'OpenID Connect provider unreachable');
          return undefined;
        }
      },
      oidcFinish: async ({ callbackUrl, checks }) => {
        try {
          return await provider().finish(new URL(callbackUrl, d.auth.origin), checks);
        } catch (err) {
          req.log.warn({ err }, 'OpenID Connect login refused');
          return undefined;
        }
      },
      professional: async (idnps) => {
        const practitioners = await searchResources(lookup, req.log, 'Practitioner', { identifier: `${IDNPS_SYSTEM}|${idnps}` });
        const user = practitioners.length === 1 ? await d.auth.users.byPractitioner(practitioners[0].id as string) : undefined;
        if (!user) req.log.warn({ idnps, practitioners: practitioners.length }, 'no Maillage user for this professional');
        return user;
      },
      roles: async (practitionerId) =>
        roleChoices(
          await searchResources(lookup, req.log, 'PractitionerRole', {
            practitioner: `Practitioner/${practitionerId}`,
            _include: 'PractitionerRole:organization',
            _count: '100',
          }),
        ),
      patients: async ({ name, access }) =>
        patientChoices(await searchResources(lookup, req.log, 'Patient', { ...(name ? { name } : {}), _count: '20', _total: 'none' }, access)),
      patientExists: ({ id, access }) => exists(lookup, req.log, 'Patient', id, access),
      encounters: async ({ patient, id, access }) =>
        encounterChoices(
          await searchResources(
            lookup,
            req.log,
            'Encounter',
            { patient: `Patient/${patient}`, ...(id ? { _id: id } : { _sort: '-date', _count: '20' }), _total: 'none' },
            access,
          ),
        ),
      save: (state) => d.auth.sessions.save(sessionId(sid), state),
      code: (grant) => d.auth.grants.issueCode(grant),
    };
  };

  /** Runs a step of the flow to its outcome: the session kept, the login traced, the answer sent. */
  async function run(req: Request, res: Response, step: Step, sid?: string): Promise<void> {
    const outcome: Outcome = await flow.outcomeOf(step, answers(req, sid));
    const session = outcome.session;
    if (session === 'end') {
      await d.auth.sessions.end(sessionId(sid));
      setCookie(res, '', 0);
    } else if (session && 'start' in session) {
      const { id } = await d.auth.sessions.start(session.start);
      setCookie(res, id, SESSION_MAX_AGE);
    } else if (session) {
      await d.auth.sessions.save(sessionId(sid), session.save);
    }
    if (outcome.trace) traceLogin(d.audit, req, d.auth.fhirBase, outcome.trace);
    reply(req, res, outcome.reply);
  }

  const authorize: RequestHandler = async (req, res) => {
    const source = new URLSearchParams(req.originalUrl.split('?')[1] ?? '');
    if (req.method === 'POST') {
      for (const [k, v] of Object.entries((req.body ?? {}) as Record<string, string | string[]>)) for (const one of [v].flat()) source.append(k, one);
    }
    await run(req, res, flow.authorize(singleParams(source), settings));
  };
  router.get('/authorize', authorize);
  router.post('/authorize', form, authorize);

  /** A page of the flow, in the login session its cookie names. */
  const page =
    (event: (state: LoginState, req: Request) => Step): RequestHandler =>
    async (req, res) => {
      const sid = parseCookies(req.get('cookie') ?? '')[COOKIE];
      const state = sid ? await d.auth.sessions.get(sid) : undefined;
      const post = req.method === 'POST' ? { csrf: field(req, 'csrf') } : undefined;
      await run(
        req,
        res,
        flow.inSession(state, post, (s) => event(s, req)),
        sid,
      );
    };

  // Failed logins, per address and user name (guessing one password), and per address across
  // user names (trying a few passwords on many).
  const tooMany = (_req: Request, res: Response) =>
    sendPage(res, 429, { name: 'error', message: 'Trop de tentatives de connexion : réessayez dans un quart d’heure.' });
  const username = (req: Request) => String((req.body as Record<string, string>)?.username ?? '').toLowerCase();
  const perUsername = failureLimit({ limit: d.loginAttempts, key: (req) => `${addressKey(req)}|${username(req)}`, refuse: tooMany });
  const perAddress = failureLimit({ limit: d.addressLoginAttempts, key: addressKey, refuse: tooMany });

  router.get(
    '/login',
    page((s) => flow.showLogin(s, settings)),
  );
  router.post(
    '/login',
    form,
    perUsername,
    perAddress,
    page((s, req) => flow.passwordLogin(s, settings, { username: field(req, 'username') ?? '', password: field(req, 'password') ?? '' }, nowSeconds())),
  );
  router.get(
    '/oidc/login',
    page((s) => flow.oidcLogin(s, settings)),
  );
  router.get(
    '/oidc/callback',
    page((s, req) => flow.oidcCallback(s, settings, req.originalUrl, nowSeconds())),
  );
  router.get(
    '/consent',
    page((s) => flow.showConsent(s, settings)),
  );
  router.post(
    '/consent',
    form,
    page((s, req) => flow.consent(s, settings, { decision: field(req, 'decision'), role: field(req, 'role') })),
  );
  router.get(
    '/patient',
    page((s, req) => flow.showPatients(s, settings, typeof req.query.name === 'string' ? req.query.name.trim() : '')),
  );
  router.post(
    '/patient',
    form,
    page((s, req) => flow.pickPatient(s, settings, { patient: field(req, 'patient') })),
  );
  router.get(
    '/encounter',
    page((s) => flow.showEncounters(s, settings)),
  );
  router.post(
    '/encounter',
    form,
    page((s, req) => flow.pickEncounter(s, settings, { encounter: field(req, 'encounter') })),
  );

  router.get('/smart-style.json', (_req, res) => {
    res.json({ color_background: '#f4f6f8', color_highlight: '#000091', color_text: '#1b1b1b', font_family: 'system-ui, sans-serif' });
  });
  return router;
}

function sessionId(sid: string | undefined): string {
  if (!sid) throw new Error('This step of the login flow needs its session');
  return sid;
}

function reply(req: Request, res: Response, r: Reply): void {
  if ('page' in r) return sendPage(res, r.status, r.page);
  // Relative, as the pages' own links: from /auth/oidc/callback, up one level first.
  if ('goTo' in r) return res.redirect(303, `${'../'.repeat(req.path.split('/').length - 2)}${r.goTo}`);
  if ('redirect' in r) return res.redirect(303, r.redirect);
  backToApp(res, r.toApp, r.params);
}
