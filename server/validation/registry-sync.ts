import type { Resource } from '@medplum/fhirtypes';
import { Followed } from '../store/change-signals.js';
import type { Database, Queryable } from '../store/db.js';
import { readChangedRows, readContents } from '../store/conformance-rows.js';
import { CANONICAL_TYPES, Registry } from './canonicals.js';
import { forgetExpansions } from './codes.js';

/**
 * The registry of each database, kept up to date with the conformance resources any server
 * process writes to it, by the rule of store/change-signals.ts: a look is a query for the rows
 * changed since the last one, reading the content of those that changed only.
 */
interface State {
  registry: Registry;
  /** Latest last_updated seen; rows are read again from a while before it (late commits). */
  watermark: number;
  /**
   * Without a change feed, a look a second; and on every validation for a while after this
   * process wrote a conformance resource, so that what a request just wrote is in force for the
   * next one even though the write is seen before its transaction commits.
   */
  freshness: Followed;
}

const states = new WeakMap<Database, State>();
/** How far back each look reads: a transaction commits after its rows' last_updated were set. */
const LOOKBACK_MS = 10 * 60_000;

export function registryOf(db: Database): Registry {
  return state(db).registry;
}

function state(db: Database): State {
  let s = states.get(db.root);
  if (!s) states.set(db.root, (s = { registry: new Registry(), watermark: 0, freshness: new Followed(CANONICAL_TYPES, 1000, 2000) }));
  return s;
}

/** Conformance resources were written through `db` apart from the write path (a package): its registry looks again before its next use. */
export function conformanceWritten(db: Database): void {
  state(db).freshness.forget();
}

export function isConformanceType(type: string): boolean {
  return (CANONICAL_TYPES as readonly string[]).includes(type);
}

/** Brings the registry of `db` up to date, reading through `q` (the caller's transaction, if any). */
export async function syncRegistry(db: Database, q: Queryable = db): Promise<Registry> {
  const s = state(db);
  if (s.freshness.current()) return s.registry;
  const looked = s.freshness.look();
  const rows = await readChangedRows(q, CANONICAL_TYPES, new Date(s.watermark - LOOKBACK_MS));
  const changed = rows.filter((r) => s.registry.heldVersion(`${r.type}/${r.id}`) !== (r.deleted ? undefined : String(r.version)));
  for (const r of changed) if (r.deleted) s.registry.release(`${r.type}/${r.id}`);
  const contents = await readContents(
    q,
    changed.filter((r) => !r.deleted),
  );
  for (const { type, id, content } of contents) {
    const resource = JSON.parse(content) as Resource;
    s.registry.hold(`${type}/${id}`, resource.meta?.versionId ?? '', resource);
  }
  if (changed.length) forgetExpansions(s.registry);
  for (const r of rows) s.watermark = Math.max(s.watermark, r.lastUpdated.getTime());
  looked();
  return s.registry;
}
