import type { Logger } from 'pino';
import { actorOf, provenance, type AccessRecord } from '../auth/audit-event.js';
import { breakGlassActor } from '../auth/principal.js';
import type { Access } from '../auth/tokens.js';
import { FhirError } from '../fhir/outcome.js';
import { purgeTrail, trailEntry, writeTrail, type TrailEntry } from '../store/audit-trail.js';
import type { Database, Queryable } from '../store/db.js';
import { isPatientData } from '../search/visibility.js';
import { activeBreakGlass } from './break-glass.js';
import { inTransaction, type AuditSink, type Context, type FhirRequest, type FhirResponse } from './context.js';
import { operationOf, type Route } from './router.js';
import { persistRecords } from './write.js';

/**
 * Queued AuditEvents are stored after this long, or as soon as this many wait. A batch of a
 * hundred costs a fifth less per event than one of twenty, in PostgreSQL and in Node (measured
 * at 1M resources); a reader of the trail has what this process queued stored first.
 */
const FLUSH_MS = 100;
const FLUSH_COUNT = 1000;
const PURGE_EVERY_MS = 3_600_000;

/**
 * The records of accesses that wrote nothing, stored in batches (one statement for many), off the
 * request's path. A write's record goes in the write's own transaction instead.
 */
export class AuditLog implements AuditSink {
  private pending: TrailEntry[] = [];
  private timer?: NodeJS.Timeout;
  private readonly writing = new Set<Promise<unknown>>();
  /** Traced interactions running, whose records are still to come. */
  private running = 0;

  private purging?: NodeJS.Timeout;
  /** The purge running or last run, which closing waits for. */
  private purge?: Promise<number>;

  /** `retentionDays`: how long events are kept (0: without end); older ones are purged at start, then hourly. */
  constructor(
    private readonly ctx: { db: Database; log: Logger },
    private readonly retentionDays = 0,
  ) {
    if (retentionDays > 0) {
      this.purge = this.purgeExpired();
      this.purging = setInterval(() => (this.purge = this.purgeExpired()), PURGE_EVERY_MS).unref();
    }
  }

  /** Deletes the events older than the retention period; how many. */
  async purgeExpired(): Promise<number> {
    const before = new Date(Date.now() - this.retentionDays * 86_400_000);
    // The server's own long work: a year of events may take longer than a request's statement.
    const purged = await purgeTrail(this.ctx.db.maintenance(), before).catch((err: unknown) => {
      this.ctx.log.error({ err }, 'the audit trail could not be purged');
      return 0;
    });
    if (purged) this.ctx.log.info({ purged, before }, 'audit trail purged of the events past its retention');
    return purged;
  }

  queue(record: AccessRecord): void {
    this.pending.push(trailEntry(record));
    // Stored through the log's own database, not the request's: a client going away cancels its request's statements only.
    if (this.pending.length >= FLUSH_COUNT) void this.flush();
    else this.timer ??= setTimeout(() => void this.flush(), FLUSH_MS);
  }

  async during<T>(fn: () => Promise<T>): Promise<T> {
    this.running++;
    try {
      return await fn();
    } finally {
      this.running--;
    }
  }

  /**
   * Stores every record, once the interactions still running (a client gone away does not stop
   * them) have queued theirs, or after `waitMs`.
   */
  async close(waitMs = 10_000): Promise<void> {
    clearInterval(this.purging);
    await this.purge;
    const until = Date.now() + waitMs;
    while (this.running && Date.now() < until) await new Promise((r) => setTimeout(r, FLUSH_MS));
    await this.flush();
  }

  /**
   * Stores what is queued, beside the batches still being stored (each waits for a connection like
   * any request: one at a time, the trail would fall behind a busy server); resolves once all are.
   */
  flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    const batch = this.pending;
    this.pending = [];
    if (batch.length) {
      const stored = writeTrail(this.ctx.db, batch)
        .catch((err: unknown) => this.ctx.log.error({ err, events: batch.length }, 'AuditEvents could not be stored'))
        .finally(() => this.writing.delete(stored));
      this.writing.add(stored);
    }
    return Promise.all(this.writing).then(() => undefined);
  }
}

const WRITES = new Set(['c', 'u', 'd']);

/**
 * Runs an interaction and traces it: an AuditEvent for every access to patient data (patient
 * compartment types, Patient, system-wide interactions and operations), allowed or refused. A
 * write's AuditEvent and Provenance are stored in its transaction; a refusal's, whatever becomes
 * of any transaction, soon after.
 */
export async function traced(ctx: Context, req: FhirRequest, route: Route, p: { type: string; id: string; target?: string }, run: (ctx: Context) => Promise<FhirResponse>): Promise<FhirResponse> {
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
  if (type === 'AuditEvent') await audit.flush();
  const operation = operationOf(route);
  const interaction = operation ? 'operation' : ((Array.isArray(route.interaction) ? route.interaction[0] : route.interaction) ?? interactionOf(route));
  const record = (res: FhirResponse | undefined, err?: unknown): AccessRecord => ({
    actor: actorOf(access),
    site: ctx.fhirBase,
    ...(ctx.address ? { address: ctx.address } : {}),
    interaction,
    ...(operation ? { operation } : {}),
    resources: touched(ctx, p, res),
    patients: patientsOf(ctx, p, res),
    ...(route.permission === 's' ? { query: req.query.toString() } : {}),
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
        await persistRecords(ctx, tx, r.resources.map((target) => provenance(access, target)));
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
export function patientsInJson(json: string, baseUrl: string, into: Set<string>): void {
  let pattern = patientPatterns.get(baseUrl);
  if (!pattern) {
    const base = baseUrl.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    const id = '([A-Za-z0-9\\-.]{1,64})';
    pattern = new RegExp(`"resourceType":"Patient","id":"${id}"|"reference":"(?:${base}/)?Patient/${id}(?=[/"])`, 'g');
    patientPatterns.set(baseUrl, pattern);
  }
  for (const m of json.matchAll(pattern)) into.add(m[1] ?? m[2]);
}
