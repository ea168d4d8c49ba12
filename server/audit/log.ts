import type { Logger } from 'pino';
import type { AuditSink } from '../interactions/context.js';
import type { Database } from '../store/db.js';
import type { AccessRecord } from './event.js';
import { purgeTrail, trailEntry, writeTrail, type TrailEntry } from './trail.js';

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
