import type { Queryable } from '../store/db.js';
import { terminologyWatermark } from '../store/canonicals.js';
import { cacheMark, feedHeard } from '../store/change-signals.js';

/**
 * Compiled code systems and expansions, kept in memory while the stored terminology does not
 * change. With a change feed heard (events/feed.ts), the CodeSystem/ValueSet watermark is checked
 * only once a write of either was heard: every process has heard it before the write's response
 * returns. Without, every process checks it at most once a second, so another process's change
 * takes effect here within a second; after a write of its own, a process checks on every use for
 * a while, so its change applies as soon as it is committed.
 */
const FRESH_MS = 1000;
const AFTER_WRITE_MS = 3000;
/** A bound on what is kept: names asked for (found or not) come from clients. */
const MAX_ENTRIES = 2000;

let watermark: string | undefined;
let checkedAt = 0;
let writtenAt = 0;
let checking: Promise<void> | undefined;
const TYPES = ['CodeSystem', 'ValueSet'];
/** The change feed's mark the watermark was last checked at (undefined: check at the next use). */
let mark: number | undefined;
const entries = new Map<string, Promise<unknown>>();

/** Drops what was compiled if the stored terminology changed since; cheap when called often. */
export async function syncTerminology(q: Queryable): Promise<void> {
  const now = Date.now();
  if (feedHeard() ? mark === cacheMark(TYPES) : now - checkedAt < FRESH_MS && now - writtenAt > AFTER_WRITE_MS) return;
  checking ??= (async () => {
    checkedAt = now;
    const at = cacheMark(TYPES);
    const current = await terminologyWatermark(q);
    if (current !== watermark) entries.clear();
    watermark = current;
    mark = at;
  })().finally(() => (checking = undefined));
  await checking;
}

/** A CodeSystem or ValueSet was written by this process. */
export function terminologyWritten(): void {
  writtenAt = Date.now();
  mark = undefined;
}

/** The value under `key`, built once until the terminology changes. A failed build is not kept. */
export function cached<T>(key: string, build: () => Promise<T>): Promise<T> {
  let entry = entries.get(key) as Promise<T> | undefined;
  if (!entry) {
    if (entries.size >= MAX_ENTRIES) entries.clear();
    entry = build();
    entries.set(key, entry);
    const built = entry;
    built.catch(() => entries.get(key) === built && entries.delete(key));
  }
  return entry;
}
