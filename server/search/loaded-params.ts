import type { SearchParameter } from '@medplum/fhirtypes';
import { Followed } from '../store/change-signals.js';
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

/**
 * When searches check: by the rule of store/change-signals.ts, at most once a second without a
 * change feed (how late another process's SearchParameter applies here), and on every search for
 * a while after this process wrote one, so that it applies once committed.
 */
const freshness = new Followed(['SearchParameter'], 1000, 3000);
/** Transactions that wrote a SearchParameter: what they read of the registry is theirs, not committed. */
const writing = new WeakSet<Queryable>();

/** The same, before a search; a transaction that wrote a SearchParameter reads it again each time. */
export async function syncSearchParametersForSearch(q: Queryable): Promise<void> {
  if (freshness.current() && !writing.has(q)) return;
  const looked = freshness.look();
  await syncSearchParameters(q);
  if (!writing.has(q)) looked();
}

/** The same, before writes: once per transaction, and again after it wrote a SearchParameter. */
export async function syncSearchParametersOnce(tx: Queryable): Promise<void> {
  if (synced.has(tx)) return;
  await syncSearchParametersForSearch(tx);
  synced.add(tx);
}

/**
 * A SearchParameter was written in `tx`: the next write in it reads the database again (the next
 * search anywhere does too: the write path signals every write, store/change-signals.ts).
 */
export function searchParametersChanged(tx: Queryable): void {
  synced.delete(tx);
  writing.add(tx);
}
