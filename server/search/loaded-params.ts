import type { SearchParameter } from '@medplum/fhirtypes';
import { cacheMark, feedHeard } from '../store/change-signals.js';
import type { Queryable } from '../store/db.js';
import { setLoadedSearchParameters } from './parameters.js';

/** What the registry was last built from: count and latest change of SearchParameter rows. */
let watermark: string | undefined;
/** Every SearchParameter row seen (deleted ones as null), and the latest change among them. */
let known = new Map<string, SearchParameter | null>();
let lastSeen = new Date(0);
/** Transactions already brought up to date: a Bundle of 10,000 writes checks once. */
const synced = new WeakSet<Queryable>();

/**
 * Brings the registry up to date with the SearchParameter resources in the database, which any
 * server process sharing it may have written. Called before every search, with the caller's
 * connection so that a transaction sees its own SearchParameters. The check is one indexed query
 * (an index-only count); when it changed, only the rows changed since are read (loading a package
 * of a thousand SearchParameters one by one must not re-read them all each time), and everything
 * is read again if the counts still disagree (a write that committed out of order).
 */
export async function syncSearchParameters(q: Queryable): Promise<void> {
  const [row] = await q.query<{ n: number; last: Date | null }>(
    `SELECT count(*)::int AS n, max(last_updated) AS last FROM resource WHERE type = 'SearchParameter'`,
  );
  const mark = `${row.n}:${row.last?.getTime() ?? ''}`;
  if (mark === watermark) return;
  await readRows(q, lastSeen);
  if (known.size !== row.n) {
    known = new Map();
    await readRows(q, new Date(0));
  }
  setLoadedSearchParameters([...known.values()].filter((sp): sp is SearchParameter => sp !== null));
  watermark = mark;
}

/** The SearchParameter resources in force, as last synced: to load the same elsewhere (a worker thread). */
export const loadedSearchParameters = (): SearchParameter[] => [...known.values()].filter((sp): sp is SearchParameter => sp !== null);

async function readRows(q: Queryable, since: Date): Promise<void> {
  const rows = await q.query<{ id: string; content: string | null; lastUpdated: Date }>(
    `SELECT id, CASE WHEN deleted THEN NULL ELSE content END AS content, last_updated AS "lastUpdated"
       FROM resource WHERE type = 'SearchParameter' AND last_updated >= $1 ORDER BY rid`,
    [since],
  );
  for (const r of rows) {
    known.set(r.id, r.content ? (JSON.parse(r.content) as SearchParameter) : null);
    if (r.lastUpdated > lastSeen) lastSeen = r.lastUpdated;
  }
}

/** How stale the registry may be for a search when no change feed is heard: how late another process's SearchParameter applies here. */
const FRESH_MS = 1000;
/** After this process wrote a SearchParameter, searches check on every use for this long, so that it applies once committed. */
const AFTER_WRITE_MS = 3000;
const TYPES = ['SearchParameter'];
let checkedAt = 0;
let writtenAt = 0;
/** The change feed's mark the registry was last synced at (undefined: sync at the next use). */
let mark: number | undefined;
/** Transactions that wrote a SearchParameter: what they read of the registry is theirs, not committed. */
const writing = new WeakSet<Queryable>();

/**
 * The same, before a search. With a change feed heard, only when a SearchParameter was written
 * since (the feed says so once it is committed, before the write's response returns: see
 * events/feed.ts); without, at most once a second, but on every search for a while after a
 * SearchParameter was written here.
 */
export async function syncSearchParametersForSearch(q: Queryable): Promise<void> {
  const now = Date.now();
  if (feedHeard() ? mark === cacheMark(TYPES) && !writing.has(q) : now - checkedAt < FRESH_MS && now - writtenAt > AFTER_WRITE_MS) return;
  const at = cacheMark(TYPES);
  await syncSearchParameters(q);
  checkedAt = now;
  if (!writing.has(q)) mark = at;
}

/** The same, before writes: once per transaction, and again after it wrote a SearchParameter. */
export async function syncSearchParametersOnce(tx: Queryable): Promise<void> {
  if (synced.has(tx)) return;
  await syncSearchParametersForSearch(tx);
  synced.add(tx);
}

/** A SearchParameter was written in `tx`: the next write in it reads the database again, and so does the next search anywhere. */
export function searchParametersChanged(tx: Queryable): void {
  synced.delete(tx);
  writing.add(tx);
  mark = undefined;
  writtenAt = Date.now();
}
