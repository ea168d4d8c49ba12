import { randomUUID } from 'node:crypto';
import type { Bundle, BundleEntry, Resource } from '@medplum/fhirtypes';
import { parseLocalReference } from '../fhir/ids.js';
import { badRequest, FhirError } from '../fhir/outcome.js';
import type { Queryable } from '../store/db.js';
import { isResourceType } from '../validation/registry.js';
import type { Dispatch } from '../route.js';
import { atEntry, entryRequest, entryResponse, processingOrder } from './bundle-entry.js';
import { findSingleMatch } from './conditional.js';
import { inTransaction, type Context, type FhirRequest, type FhirResponse } from './context.js';
import { conditionalResolver, rewriteLinks, type ConditionalResolver, type LocalLinks } from './references.js';
import { cloneExact } from '../fhir/exact-json.js';

/** The resource an entry writes: named by its url, found by its criteria, or new with an id given here. */
interface Target {
  type: string;
  id: string;
}

/**
 * A transaction (R4 http.html#trules): all entries in one database transaction, all or nothing.
 * Targets are settled first (ids for new resources, matches of conditional entries) so that
 * fullUrls and conditional references can be rewritten before anything is written; then entries
 * run in the order DELETE, POST, PUT/PATCH, GET/HEAD. A failing entry fails the whole Bundle with
 * its own status, named in the OperationOutcome. Errors other than FhirErrors (PostgreSQL
 * serialization failures and the like) pass through unchanged, so that the database can retry
 * the whole Bundle.
 */
export async function transaction(ctx: Context, req: FhirRequest, bundle: Bundle, dispatch: Dispatch): Promise<FhirResponse> {
  const entries = bundle.entry ?? [];
  checkFullUrls(entries);
  const requests: FhirRequest[] = [];
  for (const [i, entry] of entries.entries()) requests.push(await named(i, entry, () => entryRequest(ctx, entry, req.prefer)));

  const results = await inTransaction(ctx, async (tx) => {
    const txCtx: Context = { ...ctx, tx };
    const targets: (Target | undefined)[] = [];
    for (const [i, r] of requests.entries()) targets.push(await named(i, entries[i], () => targetOf(txCtx, tx, r)));
    checkOverlaps(entries, targets);
    const fullUrls = new Map<string, string>();
    entries.forEach((entry, i) => {
      const target = targets[i];
      if (entry.fullUrl && target) fullUrls.set(entry.fullUrl, `${target.type}/${target.id}`);
    });
    const resolve = conditionalResolver(txCtx, tx);
    const out = new Array<BundleEntry>(entries.length);
    for (const i of processingOrder(entries)) {
      out[i] = await named(i, entries[i], async () => {
        const entryReq = await prepare(requests[i], targets[i], localLinks(fullUrls, entries[i].fullUrl, ctx.fhirBase), resolve);
        const res = await dispatch(txCtx, entryReq);
        checkTarget(txCtx, entryReq, res, targets[i]);
        return entryResponse(txCtx, entryReq, res);
      });
    }
    return out;
  });
  return { status: 200, resource: { resourceType: 'Bundle', type: 'transaction-response', entry: results } };
}

/** Runs the work of one entry; a FhirError it raises names the entry. */
async function named<T>(index: number, entry: BundleEntry | undefined, work: () => T | Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    throw err instanceof FhirError ? atEntry(err, index, entry) : err;
  }
}

function checkFullUrls(entries: BundleEntry[]): void {
  const seen = new Map<string, number>();
  entries.forEach((entry, i) => {
    const fullUrl = entry?.fullUrl;
    if (typeof fullUrl !== 'string') return;
    const first = seen.get(fullUrl);
    if (first !== undefined) throw atEntry(badRequest(`Bundle.entry[${first}] has the same fullUrl`), i, entry);
    seen.set(fullUrl, i);
  });
}

/** The resource a write entry will touch; undefined for reads and for conditional entries that match nothing to change. */
async function targetOf(ctx: Context, tx: Queryable, r: FhirRequest): Promise<Target | undefined> {
  const [type, id] = r.path;
  if (r.method === 'GET' || r.method === 'HEAD' || !isResourceType(type)) return undefined;
  if (r.path.length === 2 && r.method !== 'POST') return { type, id };
  if (r.path.length !== 1) return undefined; // not a write: dispatch answers it
  if (r.method === 'POST') {
    const match = r.ifNoneExist ? await findSingleMatch(ctx, tx, type, new URLSearchParams(r.ifNoneExist)) : undefined;
    return { type, id: match?.id ?? randomUUID() };
  }
  const match = await findSingleMatch(ctx, tx, type, r.query);
  if (match) return { type, id: match.id };
  return r.method === 'PUT' ? { type, id: (r.body as Resource).id ?? randomUUID() } : undefined;
}

/** http.html#trules: no resource may be touched by two entries. */
function checkOverlaps(entries: BundleEntry[], targets: (Target | undefined)[]): void {
  const seen = new Map<string, number>();
  targets.forEach((target, i) => {
    if (!target) return;
    const key = `${target.type}/${target.id}`;
    const first = seen.get(key);
    if (first !== undefined) throw atEntry(badRequest(`Bundle.entry[${first}] also writes ${key}`), i, entries[i]);
    seen.set(key, i);
  });
}

/** The entry's request as it runs: a copy of its resource with links rewritten (the original stays intact for a retry). */
async function prepare(r: FhirRequest, target: Target | undefined, local: LocalLinks, resolve: ConditionalResolver): Promise<FhirRequest> {
  if (r.method !== 'POST' && r.method !== 'PUT') return r;
  const body = cloneExact(r.body) as Resource;
  await rewriteLinks(body, local, resolve);
  return { ...r, body, assignedId: target?.id };
}

/**
 * The entries a link of one entry may name: by fullUrl, or, for a relative reference in an entry
 * whose fullUrl is absolute, by that fullUrl's base (R4 bundle.html#references).
 */
function localLinks(fullUrls: Map<string, string>, entryFullUrl: string | undefined, fhirBase: string): LocalLinks {
  const segments = /^https?:\/\//.test(entryFullUrl ?? '') ? (entryFullUrl as string).split('/') : [];
  const base = segments.length > 4 && parseLocalReference(segments.slice(-2).join('/'), fhirBase) ? segments.slice(0, -2).join('/') : undefined;
  return (url) => {
    const byFullUrl = fullUrls.get(url);
    if (byFullUrl || !base) return byFullUrl;
    const ref = parseLocalReference(url, fhirBase);
    return ref && !ref.version ? fullUrls.get(`${base}/${url}`) : undefined;
  };
}

/** A write must land on the target its references were rewritten to; it does not when two entries interfere. */
function checkTarget(ctx: Context, r: FhirRequest, res: FhirResponse, target: Target | undefined): void {
  if (!target || (r.method !== 'POST' && r.method !== 'PUT') || !res.location) return;
  if (!res.location.startsWith(`${ctx.fhirBase}/${target.type}/${target.id}/_history/`)) {
    throw badRequest(`This entry conflicts with another entry of the Bundle: it wrote ${res.location}, not ${target.type}/${target.id}`);
  }
}
