import { guarded } from './access/guard.js';
import { bookOperation } from './agendas/book.js';
import { withoutStaleSlots } from './agendas/stale.js';
import { agendaWriteHook } from './agendas/write-hook.js';
import { breakGlass } from './access/break-glass.js';
import { ACTOR_TYPES } from './access/visibility.js';
import { BULK_CAPABILITIES } from './bulk/export-request.js';
import { subscriptionChannels } from './events/capability.js';
import { NDE_CAPABILITY } from './events/nde/vocabulary.js';
import { ndeWriteHook } from './events/nde/write-hook.js';
import { subscriptionWriteHook } from './events/subscription-write-hook.js';
import { ID_RE } from './fhir/ids.js';
import { badRequest, fail, notFound } from './fhir/outcome.js';
import { traced } from './audit/traced.js';
import { processBundle } from './interactions/bundle.js';
import { capabilities } from './interactions/capabilities.js';
import type { Context, FhirRequest, FhirResponse } from './interactions/context.js';
import { create } from './interactions/create.js';
import { conditionalRemove, remove } from './interactions/delete.js';
import { history } from './interactions/history.js';
import { conditionalPatch, patch } from './interactions/patch.js';
import { checkRequestQuery } from './interactions/query-text.js';
import { read } from './interactions/read.js';
import { reindexOperation } from './interactions/reindex.js';
import { search } from './interactions/search.js';
import { conditionalUpdate, update } from './interactions/update.js';
import { vread } from './interactions/vread.js';
import { setSearchRewrites } from './interactions/search-hooks.js';
import { setWriteHooks } from './interactions/write-hooks.js';
import { aciIndicatorsOperation } from './operations/aci-indicators.js';
import { recallLettersOperation } from './letters/recall-letters.js';
import { loadPackageOperation } from './operations/load-package.js';
import { TERMINOLOGY_ROUTES } from './operations/routes.js';
import { validateOperation } from './operations/validate.js';
import { operationOf, type PathParams, type Route } from './route.js';
import { storeFor } from './stores/by-type.js';
import { isResourceType } from './validation/registry.js';
import { CANONICAL_TYPES } from './validation/canonicals.js';
import { wsBindingToken } from './events/websocket.js';
import { eventsOperation, statusOperation } from './events/backport-operations.js';
import { topicCatalog, topicEntry } from './events/topic-catalog.js';

/*
 * The composition root of the FHIR API: the route table, assembled from the interactions and the
 * operations, the write hooks and search rewrites, and the one dispatch that runs every request (over HTTP, as a Bundle entry, or the
 * server's own lookups) within the audit trail and the access rules. Nothing below imports it:
 * what needs the table or the dispatch (/metadata, Bundles) is handed them.
 */

/**
 * What every write does beyond storing the version, in this order: the NdE volet's declarations
 * and completions first (they change what is stored, a Subscription included), then a
 * Subscription's checks and state, then the agendas' slots and booking notices.
 */
setWriteHooks([ndeWriteHook, subscriptionWriteHook, agendaWriteHook]);

/** What every search runs first: a search for free slots no longer offers those begun or not refreshed. */
setSearchRewrites([withoutStaleSlots]);

/** Every FHIR interaction the server answers; /metadata is derived from this table. */
export const ROUTES: Route[] = [
  {
    method: 'GET',
    pattern: ['metadata'],
    handle: (ctx) =>
      capabilities(ctx, ROUTES, {
        ...BULK_CAPABILITIES,
        instantiates: [...BULK_CAPABILITIES.instantiates, NDE_CAPABILITY],
        types: { Subscription: subscriptionChannels },
      }),
  },
  // Before [:type] and [:type, :id], which would take $reindex for a type or an id.
  { method: 'POST', pattern: ['$reindex'], permission: 'u', overAllData: true, handle: (ctx) => reindexOperation(ctx) },
  { method: 'POST', pattern: [':type', '$reindex'], permission: 'u', overAllData: true, handle: (ctx, _req, p) => reindexOperation(ctx, p.type) },
  {
    method: 'POST',
    pattern: [':type', ':id', '$break-glass'],
    types: ['Patient'],
    permission: 'r',
    selfAudited: true,
    handle: (ctx, req, p) => {
      if (p.type !== 'Patient') throw notFound('$break-glass is an operation on Patient/[id]');
      return breakGlass(ctx, req, p.id);
    },
  },
  ...TERMINOLOGY_ROUTES,
  // Counts over the pôle's data, whoever asks: the operation checks who may (no scope names them).
  ...(['GET', 'POST'] as const).map((method): Route => ({ method, pattern: ['$aci-indicators'], handle: (ctx, req) => aciIndicatorsOperation(ctx, req) })),
  {
    method: 'POST',
    pattern: [':type', '$recall-letters'],
    types: ['CarePlan'],
    permission: 'r',
    handle: (ctx, req, p) => {
      if (p.type !== 'CarePlan') throw notFound('$recall-letters is an operation on CarePlan');
      return recallLettersOperation(ctx, req);
    },
  },
  { method: 'POST', pattern: ['$load-package'], permission: 'c', writesConformance: true, handle: (ctx, req) => loadPackageOperation(ctx, req) },
  {
    method: 'POST',
    pattern: [':type', '$book'],
    types: ['Appointment'],
    permission: 'c',
    handle: (ctx, req, p) => {
      if (p.type !== 'Appointment') throw notFound('$book is an operation on Appointment');
      return bookOperation(ctx, req, dispatch);
    },
  },
  ...(['GET', 'POST'] as const).map(
    (method): Route => ({
      method,
      pattern: [':type', ':id', '$get-ws-binding-token'],
      types: ['Subscription'],
      permission: 'r',
      handle: (ctx, _req, p) => {
        if (p.type !== 'Subscription') throw notFound('$get-ws-binding-token is an operation on Subscription/[id]');
        return wsBindingToken(ctx, p.id);
      },
    }),
  ),
  // The topic catalog (R4 topics as Basic resources), read-only and public as /metadata.
  { method: 'GET', pattern: ['SubscriptionTopic'], handle: (ctx, req) => topicCatalog(ctx, req) },
  { method: 'GET', pattern: ['SubscriptionTopic', ':id'], handle: (_ctx, _req, p) => topicEntry(p.id) },
  ...(['GET', 'POST'] as const).flatMap((method): Route[] => [
    {
      method,
      pattern: [':type', '$status'],
      types: ['Subscription'],
      permission: 'r',
      handle: (ctx, req, p) => onSubscription(p, '$status', () => statusOperation(ctx, req)),
    },
    {
      method,
      pattern: [':type', ':id', '$status'],
      types: ['Subscription'],
      permission: 'r',
      handle: (ctx, req, p) => onSubscription(p, '$status', () => statusOperation(ctx, req, p.id)),
    },
    {
      method,
      pattern: [':type', ':id', '$events'],
      types: ['Subscription'],
      permission: 'r',
      handle: (ctx, req, p) => onSubscription(p, '$events', () => eventsOperation(ctx, req, p.id, dispatch)),
    },
  ]),
  { method: 'POST', pattern: [':type', '$validate'], permission: 'r', handle: (ctx, req, p) => validateOperation(ctx, req, p.type) },
  { method: 'POST', pattern: [':type', ':id', '$validate'], permission: 'r', handle: (ctx, req, p) => validateOperation(ctx, req, p.type, p.id) },
  { method: 'GET', pattern: [':type', ':id', '$validate'], permission: 'r', handle: (ctx, req, p) => validateOperation(ctx, req, p.type, p.id) },
  { method: 'GET', pattern: ['_history'], interaction: 'history-system', permission: 's', handle: (ctx, req) => history(ctx, req) },
  { method: 'GET', pattern: [], interaction: 'search-system', permission: 's', handle: (ctx, req) => search(ctx, req) },
  // Each entry is checked against the scopes as it is dispatched.
  { method: 'POST', pattern: [], interaction: ['transaction', 'batch'], handle: (ctx, req) => processBundle(ctx, req, dispatch) },
  { method: 'POST', pattern: ['_search'], permission: 's', handle: (ctx, req) => search(ctx, req) },
  { method: 'GET', pattern: [':type', '_history'], interaction: 'history-type', permission: 's', handle: (ctx, req, p) => history(ctx, req, p.type) },
  { method: 'POST', pattern: [':type', '_search'], permission: 's', handle: (ctx, req, p) => search(ctx, req, p.type) },
  { method: 'GET', pattern: [':type'], interaction: 'search-type', permission: 's', handle: (ctx, req, p) => search(ctx, req, p.type) },
  { method: 'POST', pattern: [':type'], interaction: 'create', permission: 'c', handle: (ctx, req, p) => create(ctx, req, p.type) },
  { method: 'PUT', pattern: [':type'], permission: 'u', handle: (ctx, req, p) => conditionalUpdate(ctx, req, p.type) },
  { method: 'PATCH', pattern: [':type'], permission: 'u', handle: (ctx, req, p) => conditionalPatch(ctx, req, p.type) },
  { method: 'DELETE', pattern: [':type'], permission: 'd', handle: (ctx, req, p) => conditionalRemove(ctx, req, p.type) },
  {
    method: 'GET',
    pattern: [':type', ':id', '_history', ':vid'],
    interaction: 'vread',
    permission: 'r',
    handle: (ctx, _req, p) => vread(ctx, p.type, p.id, p.vid),
  },
  {
    method: 'GET',
    pattern: [':type', ':id', '_history'],
    interaction: 'history-instance',
    permission: 'r',
    handle: (ctx, req, p) => history(ctx, req, p.type, p.id),
  },
  { method: 'GET', pattern: [':type', ':id'], interaction: 'read', permission: 'r', handle: (ctx, req, p) => read(ctx, req, p.type, p.id) },
  { method: 'PUT', pattern: [':type', ':id'], interaction: 'update', permission: 'u', handle: (ctx, req, p) => update(ctx, req, p.type, p.id) },
  { method: 'PATCH', pattern: [':type', ':id'], interaction: 'patch', permission: 'u', handle: (ctx, req, p) => patch(ctx, req, p.type, p.id) },
  { method: 'DELETE', pattern: [':type', ':id'], interaction: 'delete', permission: 'd', handle: (ctx, req, p) => remove(ctx, req, p.type, p.id) },
  // Last, so that literal third segments (_history, $operations) are matched first.
  { method: 'GET', pattern: [':type', ':id', ':target'], permission: 's', handle: (ctx, req, p) => search(ctx, req, p.target, { type: p.type, id: p.id }) },
];

/** The backport's operations are on Subscription only. */
function onSubscription(p: PathParams, name: string, run: () => Promise<FhirResponse>): Promise<FhirResponse> {
  if (p.type !== 'Subscription') throw notFound(`${name} is an operation on Subscription`);
  return run();
}

function matchPath(pattern: string[], path: string[]): PathParams | undefined {
  if (pattern.length !== path.length) return undefined;
  const params: PathParams = { type: '', id: '', vid: '', target: '' };
  for (let i = 0; i < pattern.length; i++) {
    const seg = pattern[i];
    if (seg.startsWith(':')) params[seg.slice(1) as keyof PathParams] = path[i];
    else if (seg !== path[i]) return undefined;
  }
  return params;
}

/**
 * What server processes keep in memory from the database (search/loaded-params.ts,
 * terminology/cache.ts, validation/registry-sync.ts, a principal's actors in access/visibility.ts).
 */
const CACHED_TYPES = new Set<string>([...CANONICAL_TYPES, ...ACTOR_TYPES]);

/**
 * Finds the route of a request and runs it. HEAD is answered as GET (the HTTP layer drops the
 * body). A request that wrote what server processes cache returns once every process has heard
 * it (the change feed's barrier): the next request, wherever it goes, finds it in force.
 */
export async function dispatch(ctx: Context, req: FhirRequest): Promise<FhirResponse> {
  if (ctx.tx || !ctx.heardEverywhere || req.method === 'GET' || req.method === 'HEAD') return routeRequest(ctx, req);
  const written = new Set<string>();
  const res = await routeRequest({ ...ctx, written }, req);
  if ([...written].some((t) => CACHED_TYPES.has(t))) await ctx.heardEverywhere();
  return res;
}

async function routeRequest(ctx: Context, req: FhirRequest): Promise<FhirResponse> {
  checkRequestQuery(req);
  const method = req.method === 'HEAD' ? 'GET' : req.method;
  let pathMatched = false;
  for (const route of ROUTES) {
    const params = matchPath(route.pattern, req.path);
    if (!params) continue;
    if (params.type && !isResourceType(params.type)) {
      // A literal route (metadata, _history) never reaches here: their patterns have no :type.
      throw notFound(`Unknown resource type: ${params.type}`);
    }
    if (params.id && !ID_RE.test(params.id)) throw badRequest(`Invalid resource id: ${params.id}`);
    pathMatched = true;
    if (route.method !== method) continue;
    if (route.writesConformance) ctx.written?.add('StructureDefinition');
    return traced(ctx, req, route, params, (inner) => {
      // An attempt on what the API does not write (the audit trail) is itself traced.
      const { readOnly } = storeFor(params.type || undefined);
      if (readOnly && !operationOf(route) && ['c', 'u', 'd'].includes(route.permission ?? '')) throw fail(405, 'not-supported', readOnly);
      return guarded(inner, req, route, params);
    });
  }
  if (pathMatched) throw fail(405, 'not-supported', `${req.method} is not allowed on /${req.path.join('/')}`);
  throw notFound(`No FHIR endpoint at /${req.path.join('/')}`);
}
