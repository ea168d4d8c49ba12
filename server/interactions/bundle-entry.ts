import { STATUS_CODES } from 'node:http';
import type { Binary, BundleEntry, BundleEntryResponse, OperationOutcome, Resource } from '@medplum/fhirtypes';
import { parseJson } from '../fhir/json.js';
import { badRequest, FhirError } from '../fhir/outcome.js';
import { bodyOf, type Context, type FhirRequest, type FhirResponse, type Prefer } from './context.js';
import { applyPrefer } from './prefer.js';
import { PATCH_FORMATS } from './patch.js';

const METHODS: FhirRequest['method'][] = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'];

/** The processing order of http.html#trules: DELETE, then POST, then PUT/PATCH, then GET/HEAD. */
const PHASE: Record<string, number> = { DELETE: 0, POST: 1, PUT: 2, PATCH: 2, GET: 3, HEAD: 3 };

/** Entry indexes in processing order (a stable sort: entries of one phase keep the Bundle's order). */
export function processingOrder(entries: BundleEntry[]): number[] {
  const phase = (i: number) => PHASE[entries[i]?.request?.method as string] ?? 0;
  return entries.map((_, i) => i).sort((a, b) => phase(a) - phase(b));
}

/**
 * The FhirRequest an entry stands for, as if it had come over HTTP: method, url with its query,
 * the conditional headers, and the resource as body (a Binary carrying a JSON Patch for PATCH).
 */
export function entryRequest(ctx: Context, entry: BundleEntry, prefer: Prefer): FhirRequest {
  if (typeof entry !== 'object' || entry === null) throw badRequest('The entry is not an object');
  const request = entry.request;
  if (!request || !METHODS.includes(request.method as FhirRequest['method'])) {
    throw badRequest(`The entry needs request.method, one of ${METHODS.join(', ')}`);
  }
  if (typeof request.url !== 'string' || !request.url) throw badRequest('The entry needs request.url');
  for (const name of ['ifMatch', 'ifNoneMatch', 'ifModifiedSince', 'ifNoneExist'] as const) {
    if (request[name] !== undefined && typeof request[name] !== 'string') throw badRequest(`request.${name} must be a string`);
  }
  if (entry.fullUrl !== undefined && typeof entry.fullUrl !== 'string') throw badRequest('fullUrl must be a string');
  const method = request.method as FhirRequest['method'];
  const [pathPart, queryPart] = splitUrl(request.url, ctx.fhirBase);
  let path: string[];
  try {
    path = pathPart
      .split('/')
      .filter((s) => s !== '')
      .map((s) => decodeURIComponent(s));
  } catch {
    throw badRequest(`Invalid request.url: ${request.url}`);
  }
  if (!path.length && method === 'POST') throw badRequest('A Bundle entry cannot itself be a batch or transaction');
  const fhirRequest: FhirRequest = {
    method,
    path,
    query: new URLSearchParams(queryPart),
    ifMatch: request.ifMatch,
    ifNoneMatch: request.ifNoneMatch,
    ifModifiedSince: request.ifModifiedSince,
    ifNoneExist: request.ifNoneExist,
    prefer,
  };
  if (method === 'POST' || method === 'PUT') {
    if (typeof entry.resource !== 'object' || entry.resource === null) throw badRequest(`A ${method} entry needs a resource`);
    fhirRequest.contentType = 'application/fhir+json';
    fhirRequest.body = entry.resource;
  } else if (method === 'PATCH') {
    Object.assign(fhirRequest, patchBody(entry.resource, ctx.maxJsonDepth));
  }
  return fhirRequest;
}

/** request.url is relative to the base; our own absolute base is accepted too, another server's is not. */
function splitUrl(url: string, fhirBase: string): [string, string] {
  const relative = url.startsWith(`${fhirBase}/`) ? url.slice(fhirBase.length + 1) : url;
  if (/^[a-z][a-z0-9+.-]*:/i.test(relative)) throw badRequest(`request.url must be relative to this server: ${url}`);
  const q = relative.indexOf('?');
  return q < 0 ? [relative, ''] : [relative.slice(0, q), relative.slice(q + 1)];
}

/** In a Bundle a JSON Patch travels as a Binary (R4 http.html#patch); anything else goes to patch() as it is. */
function patchBody(resource: Resource | undefined, maxJsonDepth: number | undefined): Pick<FhirRequest, 'contentType' | 'body'> {
  const binary = resource as Binary | undefined;
  if (binary?.resourceType !== 'Binary' || !PATCH_FORMATS.includes(binary.contentType as string)) {
    return { contentType: resource ? 'application/fhir+json' : undefined, body: resource };
  }
  return {
    contentType: binary.contentType,
    body: parseJson(Buffer.from(binary.data ?? '', 'base64').toString('utf8'), maxJsonDepth, 'The Binary of a PATCH entry'),
  };
}

/** The response entry of a processed request: status line, location, etag, lastModified, body as Prefer asks. */
export function entryResponse(ctx: Context, req: FhirRequest, res: FhirResponse): BundleEntry {
  const shaped = applyPrefer(req, res);
  const body = bodyOf(shaped);
  const response: BundleEntryResponse = { status: statusLine(shaped.status) };
  if (shaped.location) response.location = shaped.location;
  if (shaped.version !== undefined) response.etag = `W/"${shaped.version}"`;
  if (shaped.lastUpdated) response.lastModified = shaped.lastUpdated.toISOString();
  if (!body || req.method === 'HEAD') return { response };
  if (body.resourceType === 'OperationOutcome' && req.method !== 'GET') return { response: { ...response, outcome: body } };
  const fullUrl = body.id && body.resourceType !== 'Bundle' ? `${ctx.fhirBase}/${body.resourceType}/${body.id}` : undefined;
  return { ...(fullUrl ? { fullUrl } : {}), resource: body, response };
}

/** The response entry of a failed batch entry: its status and OperationOutcome. */
export function errorEntry(err: FhirError): BundleEntry {
  return { response: { status: statusLine(err.status), outcome: err.outcome } };
}

const statusLine = (status: number) => `${status} ${STATUS_CODES[status] ?? ''}`.trim();

/**
 * The error of a failed transaction entry, naming the entry: its index and fullUrl lead every
 * diagnostic, and each FHIRPath is placed under `Bundle.entry[i].resource`.
 */
export function atEntry(err: FhirError, index: number, entry: BundleEntry | undefined): FhirError {
  const where = `Bundle.entry[${index}]`;
  const fullUrl = typeof entry?.fullUrl === 'string' ? entry.fullUrl : undefined;
  const label = `${where}${fullUrl ? ` (fullUrl ${fullUrl})` : ''}`;
  const type = entry?.resource?.resourceType;
  const relocate = (e: string) => (type && (e === type || e.startsWith(`${type}.`)) ? `${where}.resource${e.slice(type.length)}` : e);
  const outcome: OperationOutcome = {
    ...err.outcome,
    issue: (err.outcome.issue ?? []).map((issue) => ({
      ...issue,
      diagnostics: `${label}: ${issue.diagnostics ?? ''}`,
      expression: issue.expression?.map(relocate) ?? [where],
    })),
  };
  return new FhirError(err.status, outcome);
}
