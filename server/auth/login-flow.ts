import { ACTING_AS } from '../fhir/maillage.js';
import { ID_RE } from '../fhir/ids.js';
import { USERNAME_SYSTEM, type Actor } from '../audit/event.js';
import { authorizationRequest, checkRequest, type AuthorizationRequest, type Refusal } from './authorization.js';
import type { OAuthClient } from './clients.js';
import type { CodeRequest, GrantContext } from './grants.js';
import { IDNPS_SYSTEM, type ExternalIdentity } from './oidc-login.js';
import { parseResourceScopes } from './scopes.js';
import type { LoginState } from './sessions.js';
import type { Access, LaunchContext } from './tokens.js';
import { COORDINATION_APP_CLIENT_ID } from '../fhir/maillage.js';

/**
 * The interactive authorization as a state machine: login (local password or the OpenID Connect
 * provider), the role the user acts in with consent, the patient and encounter pickers of a
 * standalone launch, then the code back to the app. The state is the login session's
 * (`LoginState`); each event below is a pure function of it that answers with an `Outcome`
 * (the session to start, save or end, a login to trace, a page or a redirect), or first asks for
 * a fact it needs from outside (a `Need`: a user, the roles of a practitioner, a code issued…)
 * and goes on with the answer. http/authorize.ts answers the needs from the stores and carries
 * the outcome over HTTP.
 */

/** What the flow knows of the server it runs in. */
export interface FlowSettings {
  /** Whether users may log in with a local password. */
  passwordLogin: boolean;
  /** The name of the OpenID Connect provider users may log in with, when one is configured. */
  oidcName?: string;
  /** fhirUser names the Practitioner under it. */
  fhirBase: string;
  /** The default smart_style_url is under it. */
  issuer: string;
}

/** One of the choices of a page (a role, a patient, an encounter). */
export interface Choice {
  id: string;
  label: string;
}

/** A page to show, with what it shows. */
export type Page =
  | { name: 'error'; message: string }
  | { name: 'login'; clientName: string; csrf: string; password: boolean; oidcName?: string; error?: string }
  | { name: 'consent'; clientName: string; csrf: string; scope: string; roles: Choice[] }
  | { name: 'patient'; csrf: string; query: string; patients: Choice[]; searched: boolean }
  | { name: 'encounter'; csrf: string; encounters: Choice[] };

/** The pages of the flow a redirect goes to. */
export type Stage = 'login' | 'consent' | 'patient' | 'encounter';

export type Reply =
  | { status: number; page: Page }
  /** To a page of the flow. */
  | { goTo: Stage }
  /** To the OpenID Connect provider. */
  | { redirect: string }
  /** Back to the app's redirect URI, with an error or the code. */
  | { toApp: string; params: Record<string, string | undefined> };

/** A login, accepted or refused, for the audit trail. */
export interface LoginTrace {
  how: 'password' | 'oidc';
  status: number;
  actor: Actor;
  diagnostics?: string;
}

export interface Outcome {
  /** What becomes of the login session: started for a checked request, saved, or ended. Untouched when absent. */
  session?: { start: AuthorizationRequest } | { save: LoginState } | 'end';
  trace?: LoginTrace;
  reply: Reply;
}

/** A user who logged in. */
export interface LoggedIn {
  id: string;
  practitionerId: string;
}

/** Where to send the user at the OpenID Connect provider, and what its callback must find again. */
export interface OidcStart {
  url: string;
  checks: NonNullable<LoginState['oidc']>;
}

/** What the flow may ask from outside, each as [question, answer]. */
export interface Needs {
  /** The registered client of this id. */
  client: [clientId: string, OAuthClient | undefined];
  /** The context of an EHR launch handle, used up; undefined when unknown, expired, used or minted for another client. */
  launch: [{ handle: string; clientId: string }, LaunchContext | undefined];
  /** The active user with this user name and password. */
  password: [{ username: string; password: string }, LoggedIn | undefined];
  /** A login started at the OpenID Connect provider; undefined when it does not answer. */
  oidcStart: [null, OidcStart | undefined];
  /** Who the provider says logged in, from its callback URL; undefined when anything does not check out. */
  oidcFinish: [{ callbackUrl: string; checks: NonNullable<LoginState['oidc']> }, ExternalIdentity | undefined];
  /** The active user who is the one Practitioner with this IDNPS. */
  professional: [idnps: string, LoggedIn | undefined];
  /** The active roles of a practitioner. */
  roles: [practitionerId: string, Choice[]];
  /** The patients the user may see, by name (all when empty). */
  patients: [{ name: string; access: Access }, Choice[]];
  /** Whether the user may see this patient. */
  patientExists: [{ id: string; access: Access }, boolean];
  /** The patient's encounters the user may see, latest first, or only the one named (`id`). */
  encounters: [{ patient: string; id?: string; access: Access }, Choice[]];
  /** The session saved as it is now, before a step that must not run twice. */
  // biome-ignore lint/suspicious/noConfusingVoidType: the answer of a save is nothing, as its store's Promise<void>
  save: [LoginState, void];
  /** A code issued for the grant. */
  code: [CodeRequest, string];
}

/** `next`, not `then`: a step must not look like a promise. */
export type NeedOf<K extends keyof Needs> = { need: K; ask: Needs[K][0]; next(answer: Needs[K][1]): Step };
export type Need = { [K in keyof Needs]: NeedOf<K> }[keyof Needs];
export type Step = Outcome | Need;

/** Who answers the flow's needs (the stores and the provider, in http/authorize.ts). */
export type Answers = { [K in keyof Needs]: (ask: Needs[K][0]) => Promise<Needs[K][1]> };

const answer = async <K extends keyof Needs>(n: NeedOf<K>, answers: Answers): Promise<Step> => n.next(await answers[n.need](n.ask));

/** Answers a step's needs, one after the other, until its outcome. */
export async function outcomeOf(step: Step, answers: Answers): Promise<Outcome> {
  while ('need' in step) step = await answer(step, answers);
  return step;
}

const need = <K extends keyof Needs>(name: K, ask: Needs[K][0], next: (answer: Needs[K][1]) => Step): Step => ({ need: name, ask, next }) as NeedOf<K> as Need;
const page = (status: number, p: Page): Outcome => ({ reply: { status, page: p } });
const error = (status: number, message: string): Outcome => page(status, { name: 'error', message });
const goTo = (stage: Stage, session?: Outcome['session']): Outcome => ({ ...(session ? { session } : {}), reply: { goTo: stage } });

// --- The authorization request -------------------------------------------------------------

/**
 * A request to /auth/authorize, its parameters each once (undefined: one was repeated, which
 * OAuth forbids, RFC 6749 §3.1). Accepted, it starts a login session.
 */
export function authorize(params: Record<string, string> | undefined, s: FlowSettings): Step {
  if (!params) return error(400, 'Requête invalide : un paramètre est répété.');
  const refused = (r: Refusal): Outcome =>
    r.redirect
      ? { reply: { toApp: params.redirect_uri, params: { error: r.error, error_description: r.description, state: params.state } } }
      : error(400, r.description);
  const checked = (client: OAuthClient | undefined): Step => {
    if (!client) return error(400, 'Application inconnue (client_id).');
    const refusal = checkRequest(params, client, s.fhirBase);
    if (refusal) return refused(refusal);
    const accept = (launch: LaunchContext | undefined) => {
      const request = authorizationRequest(params, client, launch);
      return 'error' in request ? refused(request) : goTo('login', { start: request });
    };
    return params.launch === undefined ? accept(undefined) : need('launch', { handle: params.launch, clientId: client.id }, accept);
  };
  return params.client_id ? need('client', params.client_id, checked) : checked(undefined);
}

// --- The session every page after it needs ---------------------------------------------------

/**
 * An event of a page after the authorization request, in its login session (undefined: expired,
 * ended or never started). A form posted (`post`) must carry the session's CSRF token.
 */
export function inSession(state: LoginState | undefined, post: { csrf?: string } | undefined, event: (state: LoginState) => Step): Step {
  if (!state) return error(400, 'Votre session de connexion a expiré ou n’existe pas : relancez l’application.');
  if (post && post.csrf !== state.csrf) return error(403, 'Ce formulaire ne vient pas de cette session de connexion.');
  return event(state);
}

// --- Login ------------------------------------------------------------------------------------

const loginPage = (state: LoginState, s: FlowSettings, status = 200, why?: string) =>
  page(status, {
    name: 'login',
    clientName: state.request.clientName,
    csrf: state.csrf,
    password: s.passwordLogin,
    oidcName: s.oidcName,
    ...(why ? { error: why } : {}),
  });

export function showLogin(state: LoginState, s: FlowSettings): Step {
  return state.user ? goTo('consent') : loginPage(state, s);
}

/** `now`: seconds since the epoch, the user's auth_time. */
export function passwordLogin(state: LoginState, s: FlowSettings, form: { username: string; password: string }, now: number): Step {
  if (!s.passwordLogin) return error(403, 'La connexion par mot de passe est désactivée.');
  const clientId = state.request.clientId;
  return need('password', form, (user) => {
    if (!user) {
      return {
        ...loginPage(state, s, 401, 'Identifiant ou mot de passe incorrect.'),
        trace: {
          how: 'password',
          status: 401,
          actor: { clientId, user: { system: USERNAME_SYSTEM, value: form.username } },
          diagnostics: 'Unknown user name or wrong password',
        },
      };
    }
    return {
      ...goTo('consent', { save: { ...state, user: { id: user.id, practitionerId: user.practitionerId, authTime: now } } }),
      trace: { how: 'password', status: 200, actor: { clientId, fhirUser: `Practitioner/${user.practitionerId}` } },
    };
  });
}

export function oidcLogin(state: LoginState, s: FlowSettings): Step {
  const provider = s.oidcName;
  if (!provider) return error(404, 'Aucun fournisseur d’identité n’est configuré.');
  return need('oidcStart', null, (start) =>
    start
      ? { session: { save: { ...state, oidc: start.checks } }, reply: { redirect: start.url } }
      : error(502, `${provider} ne répond pas : réessayez plus tard.`),
  );
}

/** The provider's callback (`callbackUrl`, with its query). Its checks are spent first: a replayed callback finds none. */
export function oidcCallback(state: LoginState, s: FlowSettings, callbackUrl: string, now: number): Step {
  const provider = s.oidcName;
  const checks = state.oidc;
  if (!provider || !checks) return error(400, 'Aucune connexion n’est en cours.');
  const spent: LoginState = { ...state, oidc: undefined };
  const clientId = state.request.clientId;
  return need('save', spent, () =>
    need('oidcFinish', { callbackUrl, checks }, (identity) => {
      if (!identity) {
        return {
          ...error(401, `La connexion avec ${provider} n’a pas abouti.`),
          trace: { how: 'oidc', status: 401, actor: { clientId }, diagnostics: `${provider} refused the login` },
        };
      }
      return need('professional', identity.idnps, (user) => {
        if (!user) {
          return {
            ...error(403, 'Vous n’avez pas de compte sur ce Maillage : demandez-le à la coordination du pôle.'),
            trace: {
              how: 'oidc',
              status: 403,
              actor: { clientId, user: { system: IDNPS_SYSTEM, value: identity.idnps } },
              diagnostics: 'No Maillage user for this professional',
            },
          };
        }
        const authenticated = { id: user.id, practitionerId: user.practitionerId, authTime: now, ...(identity.acr ? { acr: identity.acr } : {}) };
        return {
          ...goTo('consent', { save: { ...spent, user: authenticated } }),
          trace: { how: 'oidc', status: 200, actor: { clientId, fhirUser: `Practitioner/${user.practitionerId}` } },
        };
      });
    }),
  );
}

// --- The role and consent -------------------------------------------------------------------

export function showConsent(state: LoginState, s: FlowSettings): Step {
  const user = state.user;
  if (!user) return goTo('login');
  return need('roles', user.practitionerId, (roles) => {
    if (!roles.length) return error(403, 'Aucune situation d’exercice active ne vous est rattachée dans ce Maillage.');
    // The pôle's own app is the pôle's: nothing to consent to. With one role, the user goes on in
    // it; with several, the page is where they choose.
    if (state.request.clientId === COORDINATION_APP_CLIENT_ID && roles.length === 1) return consent(state, s, { decision: 'allow', role: roles[0].id });
    return page(200, { name: 'consent', clientName: state.request.clientName, csrf: state.csrf, scope: state.request.scope, roles });
  });
}

/** The user allows (in one of their roles) or refuses. */
export function consent(state: LoginState, s: FlowSettings, form: { decision?: string; role?: string }): Step {
  const user = state.user;
  if (!user) return goTo('login');
  if (form.decision !== 'allow') {
    return {
      session: 'end',
      reply: { toApp: state.request.redirectUri, params: { error: 'access_denied', error_description: 'The user refused', state: state.request.state } },
    };
  }
  return need('roles', user.practitionerId, (roles) => {
    const role = roles.find((r) => r.id === form.role)?.id;
    if (!role) return error(400, 'Ce rôle ne vous est pas rattaché.');
    const next: LoginState = { ...state, role };
    if (state.request.pickPatient) return goTo('patient', { save: next });
    if (state.request.pickEncounter) return goTo('encounter', { save: next });
    return finish(next, s);
  });
}

// --- The pickers of a standalone launch -----------------------------------------------------

/** The pickers show the user, in the role chosen, only the patients (and their encounters) of their équipe de soins. */
export function pickerAccess(state: LoginState, s: FlowSettings, type: 'Patient' | 'Encounter'): Access {
  const scope = `user/${type}.rs`;
  const user = state.user as NonNullable<LoginState['user']>;
  return {
    clientId: state.request.clientId,
    subject: user.id,
    scope,
    scopes: parseResourceScopes(scope),
    fhirUser: `${s.fhirBase}/Practitioner/${user.practitionerId}`,
    role: state.role,
    jti: '',
    exp: 0,
  };
}

/** `name`: what the user searched for (empty: nothing yet). */
export function showPatients(state: LoginState, s: FlowSettings, name: string): Step {
  if (!state.user || !state.role) return goTo('consent');
  return need('patients', { name, access: pickerAccess(state, s, 'Patient') }, (patients) =>
    page(200, { name: 'patient', csrf: state.csrf, query: name, patients, searched: !!name }),
  );
}

export function pickPatient(state: LoginState, s: FlowSettings, form: { patient?: string }): Step {
  if (!state.user || !state.role || !state.request.pickPatient) return goTo('consent');
  const patient = form.patient ?? '';
  const unknown = error(400, 'Ce patient n’existe pas.');
  if (!ID_RE.test(patient)) return unknown;
  return need('patientExists', { id: patient, access: pickerAccess(state, s, 'Patient') }, (found) => {
    if (!found) return unknown;
    if (!state.request.pickEncounter) return finish(state, s, { patient });
    return goTo('encounter', { save: { ...state, patient } });
  });
}

/** The patient whose encounter is picked: the launch's, or the one just picked. */
const encounterPatient = (state: LoginState) => state.request.launch?.patient ?? state.patient;

export function showEncounters(state: LoginState, s: FlowSettings): Step {
  const patient = encounterPatient(state);
  if (!state.user || !state.role || !state.request.pickEncounter || !patient) return goTo('consent');
  return need('encounters', { patient, access: pickerAccess(state, s, 'Encounter') }, (encounters) =>
    page(200, { name: 'encounter', csrf: state.csrf, encounters }),
  );
}

export function pickEncounter(state: LoginState, s: FlowSettings, form: { encounter?: string }): Step {
  const patient = encounterPatient(state);
  if (!state.user || !state.role || !state.request.pickEncounter || !patient) return goTo('consent');
  const encounter = form.encounter ?? '';
  const foreign = error(400, 'Cette rencontre n’est pas celle du patient choisi.');
  if (!ID_RE.test(encounter)) return foreign;
  return need('encounters', { patient, id: encounter, access: pickerAccess(state, s, 'Encounter') }, (found) =>
    found.length ? finish(state, s, { patient: state.patient, encounter }) : foreign,
  );
}

// --- The end: a code for the app ------------------------------------------------------------

/** The grant's launch context: the EHR launch's, what was picked, the role acted in, who logged in and how. */
export function grantContext(state: LoginState, s: FlowSettings, picked: { patient?: string; encounter?: string }): GrantContext {
  const { request, user, role } = state;
  if (!user || !role) throw new Error('grantContext() before login and role');
  const launch = request.launch ?? {};
  const patient = launch.patient ?? picked.patient;
  const encounter = launch.encounter ?? picked.encounter;
  return {
    ...launch,
    ...(patient ? { patient, need_patient_banner: launch.need_patient_banner ?? true } : {}),
    ...(encounter ? { encounter } : {}),
    fhirContext: [...(launch.fhirContext ?? []), { reference: `PractitionerRole/${role}`, role: ACTING_AS }],
    smart_style_url: launch.smart_style_url ?? `${s.issuer}/smart-style.json`,
    fhirUser: `${s.fhirBase}/Practitioner/${user.practitionerId}`,
    role,
    authTime: user.authTime,
    ...(user.acr ? { acr: user.acr } : {}),
  };
}

/** Records the grant, ends the session and sends the code back to the app. */
function finish(state: LoginState, s: FlowSettings, picked: { patient?: string; encounter?: string } = {}): Step {
  const { request } = state;
  const grant: CodeRequest = {
    clientId: request.clientId,
    userId: (state.user as NonNullable<LoginState['user']>).id,
    scope: request.scope,
    context: grantContext(state, s, picked),
    redirectUri: request.redirectUri,
    codeChallenge: request.codeChallenge,
    nonce: request.nonce,
  };
  return need('code', grant, (code) => ({ session: 'end', reply: { toApp: request.redirectUri, params: { code, state: request.state } } }));
}
