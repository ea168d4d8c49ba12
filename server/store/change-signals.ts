/**
 * The one freshness rule of the in-memory caches that follow the database (loaded
 * SearchParameters, terminology, the validation registry, the principals' actors): many processes
 * share a database, and nothing cached may be served once another wrote what it copies.
 *
 * The change feed (events/feed.ts) raises a counter per resource type each time this process hears
 * that a write of that type committed. A cache (Followed) remembers the mark it looked at the
 * database at: while a feed is heard and the mark has not moved, nothing of its types changed and
 * it need not look. When no feed is heard (a command run without a server, a listening connection
 * lost), a cache looks at most every `freshMs`, and on every use for `afterWriteMs` after this
 * process wrote one of its types, so that the write applies here as soon as it is committed.
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

/** When this process last wrote each type (its transaction may not have committed yet). */
const writtenAt = new Map<string, number>();

/** This process wrote a resource of `type`: the caches that follow it look again at their next use. */
export function signalWrite(type: string): void {
  signalChange(type);
  writtenAt.set(type, Date.now());
}

/** The freshness of one cached copy of resources of `types`: the cache asks it before serving, and tells it of each look. */
export class Followed {
  private mark: number | undefined;
  private checkedAt = 0;

  constructor(
    private readonly types: readonly string[],
    private readonly freshMs: number,
    private readonly afterWriteMs = 0,
  ) {}

  /** Whether the copy may be served without looking at the database. */
  current(): boolean {
    if (feedHeard()) return this.mark === cacheMark(this.types);
    const now = Date.now();
    return now - this.checkedAt < this.freshMs && this.types.every((t) => now - (writtenAt.get(t) ?? 0) > this.afterWriteMs);
  }

  /** A look at the database starts; the function it returns records it, once what was read is held (a failed look is not recorded). */
  look(): () => void {
    const mark = cacheMark(this.types);
    const at = Date.now();
    return () => {
      this.mark = mark;
      this.checkedAt = at;
    };
  }

  /** The copy is to be read again at its next use (written to the database apart from the write path). */
  forget(): void {
    this.mark = undefined;
    this.checkedAt = 0;
  }
}
