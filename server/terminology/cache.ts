import type { Queryable } from '../store/db.js';
import { terminologyWatermark } from '../store/canonicals.js';
import { Followed } from '../store/change-signals.js';

/**
 * Compiled code systems and expansions, kept in memory while the stored terminology does not
 * change (the CodeSystem/ValueSet watermark), by the rule of store/change-signals.ts.
 */
const freshness = new Followed(['CodeSystem', 'ValueSet'], 1000, 3000);
/** A bound on what is kept: names asked for (found or not) come from clients. */
const MAX_ENTRIES = 2000;

let watermark: string | undefined;
let checking: Promise<void> | undefined;
const entries = new Map<string, Promise<unknown>>();

/** Drops what was compiled if the stored terminology changed since; cheap when called often. */
export async function syncTerminology(q: Queryable): Promise<void> {
  if (freshness.current()) return;
  checking ??= (async () => {
    const looked = freshness.look();
    const current = await terminologyWatermark(q);
    if (current !== watermark) entries.clear();
    watermark = current;
    looked();
  })().finally(() => (checking = undefined));
  await checking;
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
