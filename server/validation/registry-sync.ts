import type { Resource } from '@medplum/fhirtypes';
import { cacheMark, feedHeard } from '../store/change-signals.js';
import type { Database, Queryable } from '../store/db.js';
import { readChangedRows, readContents } from '../store/conformance-rows.js';
import { CANONICAL_TYPES, Registry } from './canonicals.js';
import { forgetExpansions } from './codes.js';

/**
 * The registry of each database, kept up to date with the conformance resources any server
 * process writes to it: a query for the rows changed since the last look, reading the content of
 * those that changed only. With a change feed heard (events/feed.ts), the look is taken once a
 * write of a conformance type was heard, which every process has before the write's response
 * returns; without, at most once a second (at once after this process wrote one).
 */
interface State {
  registry: Registry;
  /** Latest last_updated seen; rows are read again from a while before it (late commits). */
  watermark: number;
  checkedAt: number;
  /** The change feed's mark at the last look. */
  mark?: number;
  /** This process wrote conformance resources: look again before the next validation. */
  dirty: boolean;
}

const states = new WeakMap<Database, State>();
/**
 * When this process last wrote a conformance resource through the write path (persist): until
 * a while after, every validation looks again, so that what a request just wrote is in force for
 * the next one even though the write is seen before its transaction commits.
 */
let writtenAt = 0;
const AFTER_WRITE_MS = 2000;
/** How far back each look reads: a transaction commits after its rows' last_updated were set. */
const LOOKBACK_MS = 10 * 60_000;
const INTERVAL_MS = 1000;

export function registryOf(db: Database): Registry {
  return state(db).registry;
}

function state(db: Database): State {
  let s = states.get(db.root);
  if (!s) states.set(db.root, (s = { registry: new Registry(), watermark: 0, checkedAt: 0, dirty: true }));
  return s;
}

/** A conformance resource was written through `db` (or, without it, by this process): the registry looks again before its next use. */
export function conformanceWritten(db?: Database): void {
  if (db) state(db).dirty = true;
  else writtenAt = Date.now();
}

export function isConformanceType(type: string): boolean {
  return (CANONICAL_TYPES as readonly string[]).includes(type);
}

/** Brings the registry of `db` up to date, reading through `q` (the caller's transaction, if any). */
export async function syncRegistry(db: Database, q: Queryable = db): Promise<Registry> {
  const s = state(db);
  const now = Date.now();
  // With the feed heard, its mark says exactly when to look; without, a look a second, and at once after a write here.
  const fresh = feedHeard() ? s.mark === cacheMark(CANONICAL_TYPES) : now - s.checkedAt < INTERVAL_MS && now - writtenAt > AFTER_WRITE_MS;
  if (!s.dirty && fresh) return s.registry;
  s.checkedAt = now;
  s.dirty = false;
  s.mark = cacheMark(CANONICAL_TYPES);
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
  return s.registry;
}
