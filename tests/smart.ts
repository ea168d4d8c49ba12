import { createHash, randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import type { Config } from '../server/config.js';

/** The operator's backend client: system/*.cruds and the admin API. */
export const OPERATOR = { bootstrapClientId: 'ops', bootstrapClientSecret: 'a-test-secret-not-for-production' } satisfies Partial<Config>;

export const APP_REDIRECT = 'http://127.0.0.1:9/app/callback';
export const IDNPS = 'urn:oid:1.2.250.1.71.4.2.1';

const basic = (id: string, secret: string) => `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`;

/** POSTs a form to an OAuth endpoint; JSON back (or nothing). */
export async function postForm(url: string, form: Record<string, string>, headers: Record<string, string> = {}) {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: new URLSearchParams(form),
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: (text ? JSON.parse(text) : {}) as Record<string, any> };
}

export async function operatorToken(origin: string, scope = 'system/*.cruds admin'): Promise<string> {
  const res = await postForm(
    `${origin}/auth/token`,
    { grant_type: 'client_credentials', scope },
    { authorization: basic(OPERATOR.bootstrapClientId, OPERATOR.bootstrapClientSecret) },
  );
  if (res.status !== 200) throw new Error(`operator token: ${JSON.stringify(res.body)}`);
  return res.body.access_token as string;
}

/** A JSON call with a bearer token (an array PATCHed is a JSON Patch). */
export async function call(method: string, url: string, token: string, body?: unknown, headers: Record<string, string> = {}) {
  const contentType = method === 'PATCH' && Array.isArray(body) ? 'application/json-patch+json' : 'application/json';
  const res = await fetch(url, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body !== undefined ? { 'content-type': contentType } : {}), ...headers },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: (text ? JSON.parse(text) : undefined) as any };
}

export function pkce(): { verifier: string; challenge: string } {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

/**
 * A small practice in the database: a pôle (Organization), a médecin with an IDNPS and two roles
 * (two structures), a user account for them, and two patients. Returns their ids.
 */
export async function seedPractice(origin: string, suffix = randomBytes(4).toString('hex')) {
  const token = await operatorToken(origin);
  const put = async (resource: Record<string, any>) => {
    const res = await call('PUT', `${origin}/fhir/${resource.resourceType}/${resource.id}`, token, resource);
    if (res.status >= 300) throw new Error(`seed ${resource.resourceType}: ${JSON.stringify(res.body)}`);
  };
  const ids = {
    org: `msp-${suffix}`,
    org2: `ssiad-${suffix}`,
    practitioner: `dr-${suffix}`,
    role: `role-msp-${suffix}`,
    role2: `role-ssiad-${suffix}`,
    patient: `pat-a-${suffix}`,
    patient2: `pat-b-${suffix}`,
    encounter: `enc-${suffix}`,
    idnps: `8${String(Math.floor(Math.random() * 1e11)).padStart(11, '0')}`,
    username: `medecin-${suffix}`,
    password: 'correct horse battery staple',
  };
  await put({ resourceType: 'Organization', id: ids.org, name: 'MSP des Tilleuls' });
  await put({ resourceType: 'Organization', id: ids.org2, name: 'SSIAD du Val' });
  await put({
    resourceType: 'Practitioner',
    id: ids.practitioner,
    identifier: [{ system: IDNPS, value: ids.idnps }],
    name: [{ family: 'Martin', given: ['Claire'], prefix: ['Dr'] }],
  });
  for (const [role, org, display] of [
    [ids.role, ids.org, 'Médecin généraliste'],
    [ids.role2, ids.org2, 'Médecin coordonnateur'],
  ]) {
    await put({
      resourceType: 'PractitionerRole',
      id: role,
      active: true,
      practitioner: { reference: `Practitioner/${ids.practitioner}` },
      organization: { reference: `Organization/${org}` },
      code: [{ text: display }],
    });
  }
  await put({ resourceType: 'Patient', id: ids.patient, name: [{ family: `Durand${suffix}`, given: ['Jeanne'] }], birthDate: '1940-02-03' });
  await put({ resourceType: 'Patient', id: ids.patient2, name: [{ family: `Petit${suffix}`, given: ['Louis'] }], birthDate: '1951-07-14' });
  // The doctor, in both roles, is in each patient's cercle de soins (the équipe-de-soins rules).
  for (const patient of [ids.patient, ids.patient2]) {
    await put({
      resourceType: 'CareTeam',
      id: `cds-${patient}`,
      status: 'active',
      subject: { reference: `Patient/${patient}` },
      participant: [ids.role, ids.role2].map((role) => ({ member: { reference: `PractitionerRole/${role}` }, period: { start: '2020-01-01' } })),
    });
  }
  await put({ resourceType: 'Encounter', id: ids.encounter, status: 'in-progress', class: { code: 'AMB' }, subject: { reference: `Patient/${ids.patient}` } });
  const user = await call('POST', `${origin}/auth/admin/users`, token, {
    practitioner: `Practitioner/${ids.practitioner}`,
    username: ids.username,
    password: ids.password,
  });
  if (user.status !== 201) throw new Error(`enrol: ${JSON.stringify(user.body)}`);
  return ids;
}

/** The PractitionerRole `role-<who>` of Practitioner `pr-<who>` in Organization `<org>`. */
export const practitionerRole = (who: string, org: string) => ({
  resourceType: 'PractitionerRole',
  id: `role-${who}`,
  active: true,
  practitioner: { reference: `Practitioner/pr-${who}` },
  organization: { reference: `Organization/${org}` },
});

/** Writes `resource` with PUT as `token` (its type and id in the URL); throws unless it was written. */
export async function putAs(origin: string, token: string, resource: Record<string, any>): Promise<void> {
  const res = await call('PUT', `${origin}/fhir/${resource.resourceType}/${resource.id}`, token, resource);
  if (res.status >= 300) throw new Error(`${resource.resourceType}/${resource.id}: ${JSON.stringify(res.body)}`);
}

/** A professional of the pôle without an account: Practitioner `pr-<who>` and their role in `org` (practitionerRole). */
export async function placePractitioner(origin: string, token: string, who: string, org: string): Promise<void> {
  for (const resource of [{ resourceType: 'Practitioner', id: `pr-${who}`, name: [{ family: who }] }, practitionerRole(who, org)]) {
    await putAs(origin, token, resource);
  }
}

/**
 * A professional of the pôle, as the access tests need one: Practitioner `pr-<who>`, their role in
 * `org` (practitionerRole) and a user account `who` with `password`, written with the operator's `token`.
 */
export async function enrolPractitioner(origin: string, token: string, who: string, org: string, password: string): Promise<void> {
  await placePractitioner(origin, token, who, org);
  const user = await call('POST', `${origin}/auth/admin/users`, token, { practitioner: `Practitioner/pr-${who}`, username: who, password });
  if (user.status !== 201) throw new Error(`enrol ${who}: ${JSON.stringify(user.body)}`);
}

/** A patient's cercle de soins (CareTeam `cds-<patient>`) with `role` as a member since 2020, until `end` if given. */
export const cercleDeSoins = (patient: string, role: string, end?: string) => ({
  resourceType: 'CareTeam',
  id: `cds-${patient}`,
  status: 'active',
  subject: { reference: `Patient/${patient}` },
  participant: [{ member: { reference: `PractitionerRole/${role}` }, period: { start: '2020-01-01', ...(end ? { end } : {}) } }],
});

/** A patient's opposition to sharing their data (a Consent; by default against everyone), as the équipe-de-soins rules read it. */
export const opposition = (id: string, patient: string, provision: Record<string, unknown> = { type: 'deny' }) => ({
  resourceType: 'Consent',
  id,
  status: 'active',
  scope: { text: 'privacy' },
  category: [{ text: 'opposition' }],
  policyRule: { text: 'opposition' },
  patient: { reference: `Patient/${patient}` },
  provision,
});

/** Registers a backend client (client_credentials) with `scope`; returns an access token it was given. */
export async function backendToken(origin: string, clientId: string, scope = 'system/*.cruds'): Promise<string> {
  const app = await registerApp(origin, { client_id: clientId, grant_types: ['client_credentials'], scope });
  const res = await postForm(`${origin}/auth/token`, { grant_type: 'client_credentials', client_id: clientId, client_secret: app.client_secret });
  if (res.status !== 200) throw new Error(`${clientId} token: ${JSON.stringify(res.body)}`);
  return res.body.access_token as string;
}

/** Writes a CLIENTS_FILE at `path` declaring the lab's gateway, a backend client of Observations with `secret`. */
export function writeLabGatewayClientsFile(path: string, secret: string): void {
  const gateway = {
    client_id: 'lab-gateway',
    client_name: 'Passerelle du laboratoire',
    grant_types: ['client_credentials'],
    token_endpoint_auth_method: 'client_secret_basic',
    client_secret_sha256: createHash('sha256').update(secret).digest('hex'),
    scope: 'system/Observation.cruds',
  };
  writeFileSync(path, JSON.stringify([gateway]));
}

/** Registers an app through the admin API; returns its registration (with a secret for confidential ones). */
export async function registerApp(origin: string, registration: Record<string, unknown>) {
  const res = await call('POST', `${origin}/auth/admin/clients`, await operatorToken(origin), registration);
  if (res.status !== 201) throw new Error(`register: ${JSON.stringify(res.body)}`);
  return res.body as Record<string, any>;
}

/**
 * A browser without a browser: walks the authorization pages by HTTP, keeping each origin's
 * cookies (ours, and the identity provider's).
 */
export class PageWalker {
  private readonly cookies = new Map<string, Map<string, string>>();

  /** `headers`: sent with every request (X-Forwarded-For, to come from another address). */
  constructor(
    private readonly origin: string,
    private readonly headers: Record<string, string> = {},
  ) {}

  async go(url: string, form?: Record<string, string>): Promise<{ status: number; location?: string; html: string; url: URL }> {
    const target = new URL(url, `${this.origin}/auth/`);
    const jar = this.cookies.get(target.origin) ?? new Map<string, string>();
    this.cookies.set(target.origin, jar);
    const res = await fetch(target, {
      method: form ? 'POST' : 'GET',
      redirect: 'manual',
      headers: {
        ...this.headers,
        cookie: [...jar].map(([k, v]) => `${k}=${v}`).join('; '),
        ...(form ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
      },
      body: form ? new URLSearchParams(form) : undefined,
    });
    for (const set of res.headers.getSetCookie()) {
      const [pair] = set.split(';');
      const eq = pair.indexOf('=');
      jar.set(pair.slice(0, eq), pair.slice(eq + 1));
    }
    const location = res.headers.get('location') ?? undefined;
    return { status: res.status, location: location && new URL(location, target).href, html: await res.text(), url: target };
  }

  /** Follows redirects from `url` until a page answers, or the next hop is on `stopAt`'s origin and path. */
  async follow(url: string, stopAt?: string): Promise<{ status: number; location?: string; html: string; url: URL }> {
    let step = await this.go(url);
    for (let hops = 0; step.location && hops < 10; hops++) {
      if (stopAt && step.location.startsWith(stopAt)) return step;
      step = await this.go(step.location);
    }
    return step;
  }

  /** The CSRF token of the last page. */
  static csrf(html: string): string {
    return /name="csrf" value="([^"]+)"/.exec(html)?.[1] ?? '';
  }
}

export interface LoginOptions {
  clientId: string;
  scope: string;
  username: string;
  password: string;
  role: string;
  patient?: string;
  /** The encounter to pick when the server shows its encounter picker. */
  encounter?: string;
  launch?: string;
  redirectUri?: string;
  aud?: string;
  nonce?: string;
}

/** A user's access token: the authorization by password, then the code exchanged at the token endpoint. */
export async function userToken(origin: string, o: LoginOptions): Promise<string> {
  return (await userLogin(origin, o)).access_token as string;
}

/** The same, the token endpoint's whole answer (scope, patient, …). */
export async function userLogin(origin: string, o: LoginOptions): Promise<Record<string, any>> {
  const { callback, verifier } = await authorizeByPassword(origin, o);
  const code = callback.searchParams.get('code');
  if (!code) throw new Error(`authorize ${o.username}: ${callback}`);
  const res = await postForm(`${origin}/auth/token`, {
    grant_type: 'authorization_code',
    code,
    code_verifier: verifier,
    redirect_uri: o.redirectUri ?? APP_REDIRECT,
    client_id: o.clientId,
  });
  if (res.status !== 200) throw new Error(`token for ${o.username}: ${JSON.stringify(res.body)}`);
  return res.body;
}

/** The whole authorization by password, as a user would click it; the app's callback URL at the end. */
export async function authorizeByPassword(origin: string, o: LoginOptions): Promise<{ callback: URL; verifier: string; state: string }> {
  const { verifier, challenge } = pkce();
  const state = randomBytes(16).toString('base64url');
  const params = new URLSearchParams({
    response_type: 'code',
    client_id: o.clientId,
    redirect_uri: o.redirectUri ?? APP_REDIRECT,
    scope: o.scope,
    state,
    aud: o.aud ?? `${origin}/fhir`,
    code_challenge: challenge,
    code_challenge_method: 'S256',
    ...(o.launch ? { launch: o.launch } : {}),
    ...(o.nonce ? { nonce: o.nonce } : {}),
  });
  const walker = new PageWalker(origin);
  let step = await walker.go(`authorize?${params}`);
  if (step.status !== 303) throw new Error(`authorize: ${step.status} ${step.html.slice(0, 300)}`);
  if (!step.location?.endsWith('/auth/login')) return { callback: new URL(step.location as string), verifier, state };
  const login = await walker.go('login');
  step = await walker.go('login', { csrf: PageWalker.csrf(login.html), username: o.username, password: o.password });
  if (step.status !== 303) throw new Error(`login: ${step.status}`);
  const consent = await walker.go('consent');
  step = await walker.go('consent', { csrf: PageWalker.csrf(consent.html), role: o.role, decision: 'allow' });
  if (step.location?.endsWith('/auth/patient')) {
    const picker = await walker.go('patient');
    step = await walker.go('patient', { csrf: PageWalker.csrf(picker.html), patient: o.patient ?? '' });
  }
  if (step.location?.endsWith('/auth/encounter')) {
    const picker = await walker.go('encounter');
    step = await walker.go('encounter', { csrf: PageWalker.csrf(picker.html), encounter: o.encounter ?? '' });
  }
  if (step.status !== 303 || !step.location) throw new Error(`consent: ${step.status} ${step.html.slice(0, 300)}`);
  return { callback: new URL(step.location), verifier, state };
}
