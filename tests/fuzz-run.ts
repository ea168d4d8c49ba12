import { ROLE } from '../seed/demo/territory.js';
import type { Corpus, Fuzzer, FuzzRequest } from './fuzz-requests.js';
import { APP_REDIRECT, registerApp, userToken } from './smart.js';

const CORPUS_TYPES = [
  'Patient',
  'Observation',
  'Encounter',
  'Condition',
  'CarePlan',
  'Task',
  'CareTeam',
  'Consent',
  'MedicationRequest',
  'Practitioner',
  'PractitionerRole',
  'Organization',
];

/** The token of the demo's médecin généraliste (`claire`, given her login), through an app registered for the fuzz. */
export async function gpToken(origin: string, claire: { username: string; password: string }): Promise<string> {
  const login = { clientId: 'fuzz-app', scope: 'openid fhirUser user/*.cruds', username: claire.username, password: claire.password, role: ROLE.gpMorvan };
  await registerApp(origin, {
    client_id: login.clientId,
    token_endpoint_auth_method: 'none',
    redirect_uris: [APP_REDIRECT],
    grant_types: ['authorization_code'],
    scope: login.scope,
  });
  return userToken(origin, login);
}

/** A few resources of each common type the server holds: what the fuzzer mutates. */
export async function fetchCorpus(base: string, token?: string): Promise<Corpus> {
  const corpus: Corpus = [];
  for (const type of CORPUS_TYPES) {
    const res = await fetch(`${base}/${type}?_count=3`, { headers: token ? { authorization: `Bearer ${token}` } : {} });
    const bundle = (await res.json()) as { entry?: { resource: Record<string, unknown> }[] };
    corpus.push(...(bundle.entry ?? []).map((e) => e.resource));
  }
  return corpus;
}

/** A response the server must never give, with the request that got it (enough to replay it by hand). */
export interface FuzzFailure {
  index: number;
  request: string;
  status: number | string;
  body: string;
}

export interface FuzzReport {
  requests: number;
  /** How many responses had each status. */
  statuses: Record<string, number>;
  failures: FuzzFailure[];
  seconds: number;
}

/** Requests fetch itself refuses to send (a header value it cannot encode): not the server's doing. */
const NOT_SENT = 'not sent';

/**
 * Sends `count` requests of the fuzzer to the FHIR base, `concurrency` at a time, with the bearer
 * token if given (a few sent without it, or with a damaged one), and checks each response: no
 * 5xx (in a batch's entries neither), a JSON resource as the body of a success that has one, an
 * OperationOutcome for an error.
 */
export async function runFuzz(base: string, fuzzer: Fuzzer, count: number, opts: { token?: string; concurrency?: number } = {}): Promise<FuzzReport> {
  const started = performance.now();
  const statuses: Record<string, number> = {};
  const failures: FuzzFailure[] = [];
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const index = next++;
      const request = withToken(fuzzer.next(), opts.token, index);
      const outcome = await send(base, request);
      statuses[outcome.status] = (statuses[outcome.status] ?? 0) + 1;
      if (outcome.fault) failures.push({ index, request: describe(request), status: outcome.status, body: outcome.fault });
    }
  };
  await Promise.all(Array.from({ length: opts.concurrency ?? 4 }, worker));
  return { requests: count, statuses, failures, seconds: (performance.now() - started) / 1000 };
}

function withToken(request: FuzzRequest, token: string | undefined, index: number): FuzzRequest {
  if (!token) return request;
  // Every 20th request without its token, every 20th (offset) with a damaged one.
  const authorization = index % 20 === 7 ? undefined : index % 20 === 13 ? `Bearer ${token.slice(0, -4)}AAAA` : `Bearer ${token}`;
  return authorization ? { ...request, headers: { ...request.headers, authorization } } : request;
}

async function send(base: string, request: FuzzRequest): Promise<{ status: number | string; fault?: string }> {
  let res: Response;
  try {
    res = await fetch(`${base}/${request.path}`, { method: request.method, headers: request.headers, body: request.body });
  } catch (err) {
    const cause = (err as { cause?: { code?: string } }).cause?.code;
    // fetch refuses some requests before sending them; a connection the server drops is a fault.
    if (err instanceof TypeError && !cause) return { status: NOT_SENT };
    return { status: 'network error', fault: `${(err as Error).message} ${cause ?? ''}` };
  }
  const text = await res.text();
  if (res.status >= 500) return { status: res.status, fault: text.slice(0, 500) || '(no body)' };
  if (request.method === 'HEAD' || res.status === 204 || res.status === 304) return { status: res.status };
  // A success may have no body (Prefer: return=minimal); an error always has its OperationOutcome.
  if (!text && res.status < 400) return { status: res.status };
  const type = res.headers.get('content-type') ?? '';
  if (!/^application\/(fhir\+)?json/.test(type)) return { status: res.status, fault: `Content-Type ${type}: ${text.slice(0, 200)}` };
  try {
    const body = JSON.parse(text) as { resourceType?: unknown; type?: unknown; entry?: { response?: { status?: string } }[] };
    if (typeof body.resourceType !== 'string') return { status: res.status, fault: `not a resource: ${text.slice(0, 200)}` };
    // A batch answers 200 whatever its entries met: each entry's own status counts too.
    const failed = body.type === 'batch-response' ? body.entry?.find((e) => e.response?.status?.startsWith('5')) : undefined;
    if (failed) return { status: res.status, fault: `a batch entry failed: ${JSON.stringify(failed).slice(0, 300)}` };
    if (res.status >= 400 && body.resourceType !== 'OperationOutcome')
      return { status: res.status, fault: `an error without OperationOutcome: ${text.slice(0, 200)}` };
  } catch {
    return { status: res.status, fault: `not JSON: ${text.slice(0, 200)}` };
  }
  return { status: res.status };
}

function describe(request: FuzzRequest): string {
  const body = request.body === undefined ? '' : ` body(${request.body.length}): ${request.body.toString().slice(0, 300)}`;
  return `${request.method} ${request.path.slice(0, 300)} ${JSON.stringify({ ...request.headers, authorization: undefined })}${body}`;
}
