import { breakGlassActor } from '../access/principal.js';
import type { Access } from '../auth/tokens.js';
import { FhirError } from '../fhir/outcome.js';
import { activeBreakGlass } from '../access/break-glass.js';
import { inTransaction, type AuditSink, type Context, type FhirRequest, type FhirResponse } from '../interactions/context.js';
import { operationOf, type Route } from '../route.js';
import { persistRecords } from '../interactions/write.js';
import { isPatientData } from '../access/visibility.js';
import type { Queryable } from '../store/db.js';
import { actorOf, provenance, type AccessRecord } from './event.js';
import { TRAIL_TYPE, trailEntry, writeTrail } from './trail.js';

const WRITES = new Set(['c', 'u', 'd']);

/**
 * Runs an interaction and traces it: an AuditEvent for every access to patient data (patient
 * compartment types, Patient, system-wide interactions and operations), allowed or refused. A
 * write's AuditEvent and Provenance are stored in its transaction; a refusal's, whatever becomes
 * of any transaction, soon after.
 */
export async function traced(
  ctx: Context,
  req: FhirRequest,
  route: Route,
  p: { type: string; id: string; target?: string },
  run: (ctx: Context) => Promise<FhirResponse>,
): Promise<FhirResponse> {
  const access = ctx.access;
  const audit = ctx.audit;
  const type = p.target || p.type || undefined;
  if (!access || !audit || !route.permission || route.selfAudited || (type && !isPatientData(type))) return run(ctx);
  return audit.during(() => tracedRun(ctx, audit, access, req, route, p, type, run));
}

async function tracedRun(
  ctx: Context,
  audit: AuditSink,
  access: Access,
  req: FhirRequest,
  route: Route,
  p: { type: string; id: string; target?: string },
  type: string | undefined,
  run: (ctx: Context) => Promise<FhirResponse>,
): Promise<FhirResponse> {
  const started = new Date();
  // Whoever reads the trail sees it up to their own request.
  if (type === TRAIL_TYPE) await audit.flush();
  const operation = operationOf(route);
  const interaction = operation ? 'operation' : ((Array.isArray(route.interaction) ? route.interaction[0] : route.interaction) ?? interactionOf(route));
  const record = (res: FhirResponse | undefined, err?: unknown): AccessRecord => ({
    actor: actorOf(access),
    site: ctx.fhirBase,
    ...(ctx.address ? { address: ctx.address } : {}),
    interaction,
    ...(operation ? { operation } : {}),
    resources: res?.disclosed?.resources ?? touched(ctx, p, res),
    patients: res?.disclosed?.patients ?? patientsOf(ctx, p, res),
    ...(route.permission === 's' ? { query: req.query.toString() } : res?.disclosed?.query ? { query: res.disclosed.query } : {}),
    started,
    status: res?.status ?? (err instanceof FhirError ? err.status : 500),
    ...(err instanceof FhirError ? { diagnostics: err.message } : {}),
  });
  // Marked with the reason of a break-glass access in force for a patient touched, if any.
  const underGlass = async (q: Queryable, r: AccessRecord): Promise<AccessRecord> => {
    const actor = breakGlassActor(access);
    const reason = actor && r.patients.length ? await activeBreakGlass(q, actor, r.patients) : undefined;
    return reason ? { ...r, breakGlass: reason } : r;
  };
  try {
    if (WRITES.has(route.permission ?? '') && !operation) {
      return await inTransaction(ctx, async (tx) => {
        const res = await run({ ...ctx, tx });
        const r = record(res);
        await writeTrail(tx, [trailEntry(await underGlass(tx, r))]);
        await persistRecords(
          ctx,
          tx,
          r.resources.map((target) => provenance(access, target)),
        );
        return res;
      });
    }
    const res = await run(ctx);
    const r = await underGlass(ctx.tx ?? ctx.db, record(res));
    if (ctx.tx) await writeTrail(ctx.tx, [trailEntry(r)]);
    else audit.queue(r);
    return res;
  } catch (err) {
    const r = record(undefined, err);
    // Within a transaction, in it: PGlite's one connection is the transaction's until it ends.
    audit.queue(await underGlass(ctx.tx ?? ctx.db, r).catch(() => r));
    throw err;
  }
}

function interactionOf(route: Route): string {
  const shape = route.pattern.join('/');
  if (route.permission === 's') return shape.startsWith(':type') ? 'search-type' : 'search-system';
  return { c: 'create', u: 'update', d: 'delete', r: 'read' }[route.permission as string] ?? 'operation';
}

/** The versions an interaction read or wrote by id. */
function touched(ctx: Context, p: { type: string; id: string; target?: string }, res: FhirResponse | undefined): string[] {
  if (res?.location?.startsWith(`${ctx.fhirBase}/`)) return [res.location.slice(ctx.fhirBase.length + 1)];
  if (p.id && !p.target && res?.version !== undefined) return [`${p.type}/${p.id}/_history/${res.version}`];
  return [];
}

/** Every patient whose data went out (or would have: the one named in the URL of a refused request). */
function patientsOf(ctx: Context, p: { type: string; id: string }, res: FhirResponse | undefined): string[] {
  const found = new Set<string>();
  if (p.type === 'Patient' && p.id) found.add(p.id);
  const body = res?.raw ?? (res?.resource && res.resource.resourceType !== 'OperationOutcome' ? JSON.stringify(res.resource) : undefined);
  if (body) patientsInJson(body, ctx.fhirBase, found);
  return [...found];
}

const patientPatterns = new Map<string, RegExp>();

/**
 * The ids of the Patient resources in a JSON text (stored JSON puts `id` right after
 * `resourceType`), and of the patients it references anywhere. Read from the text: parsing a
 * page of results cost more than the rest of its audit. Sound on JSON, where a quote within a
 * string is always escaped: `"reference":"` can only be a key and its value.
 */
export function patientsInJson(json: string, fhirBase: string, into: Set<string>): void {
  let pattern = patientPatterns.get(fhirBase);
  if (!pattern) {
    const base = fhirBase.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    const id = '([A-Za-z0-9\\-.]{1,64})';
    pattern = new RegExp(`"resourceType":"Patient","id":"${id}"|"reference":"(?:${base}/)?Patient/${id}(?=[/"])`, 'g');
    patientPatterns.set(fhirBase, pattern);
  }
  for (const m of json.matchAll(pattern)) into.add(m[1] ?? m[2]);
}
