/**
 * What the in-memory caches that follow the database (loaded SearchParameters, terminology, the
 * validation registry) need to know of the change feed: a counter per resource type, raised each
 * time this process hears that a write of that type committed (events/feed.ts), and whether a feed
 * is heard at all. A cache remembers the mark it was built at: while a feed is heard and the mark
 * has not moved, nothing of its types changed and it need not look at the database. When no feed
 * is heard (a command run without a server, a listening connection lost), caches look at the
 * database as they did before the feed: at most once a second.
 */
const counters = new Map<string, number>();
/** Moved with every counter at once: when a feed starts being heard, what committed before was not. */
let generation = 0;
let heard = 0;

/** Whether a change feed is heard in this process: the marks then move with every change. */
export function feedHeard(): boolean {
  return heard > 0;
}

/** A number that grows whenever a write of one of these types is heard. */
export function cacheMark(types: readonly string[]): number {
  let sum = generation * 1_000_003;
  for (const t of types) sum += counters.get(t) ?? 0;
  return sum;
}

/** A write of `type` committed (heard from the feed). */
export function signalChange(type: string): void {
  counters.set(type, (counters.get(type) ?? 0) + 1);
}

/** A feed starts or stops being heard; every mark moves (what committed meanwhile was not heard). */
export function feedHeardChanged(nowHeard: boolean): void {
  heard += nowHeard ? 1 : -1;
  generation++;
}
