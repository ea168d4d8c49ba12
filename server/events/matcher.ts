import type { Database } from '../store/db.js';
import { ASYNC_COMMIT } from './async-commit.js';
import { enqueue, type FeedChange } from './queue.js';
import type { SubscriptionCache } from './subscription-cache.js';
import { queueTopicEvents } from './topic-matcher.js';

const WRITES = new Set(['create', 'update', 'patch']);

/**
 * Turns the change feed into each subscription's queue of events, in one process at a time (the
 * cursor's row is locked, others skip it) and in one transaction: the events are queued, numbered
 * per subscription without gaps, and the cursor moved, all or nothing (committed without waiting
 * for the disk: async-commit.ts).
 *
 * What is read is every change of a transaction committed (visible in the snapshot) and not read
 * before: those at or above the horizon (the snapshot's xmin, below which every transaction has
 * ended) are remembered (feed_cursor_seen) until the horizon passes them. So no change is skipped
 * when a lower seq commits after a higher one, and a long transaction delays only its own
 * changes. A resource's versions come in order: the transaction of the next one waited for the
 * previous one's commit (its row lock). A change is queued for each active
 * Subscription on its type (this process's copy of them, subscription-cache.ts); whether it matches the criteria, and whether the subscriber may see
 * it, is decided at delivery, by the search engine and the access rules of that moment.
 * Deletes are not events of a search (a deleted resource matches none); topic-based
 * subscriptions get theirs from topic-matcher.ts, in the same transaction.
 */
export async function matchChanges(db: Database, subscriptions: SubscriptionCache): Promise<number> {
  return db.transaction(async (tx) => {
    const [cursor] = await tx.query<{ horizon: string }>(
      `WITH ${ASYNC_COMMIT} SELECT horizon::text FROM feed_cursor, async_commit WHERE name = 'subscriptions' FOR UPDATE OF feed_cursor SKIP LOCKED`,
    );
    if (!cursor) return 0;
    const rows = await tx.query<{
      x: string;
      seq: number | null;
      xid: string;
      type: string;
      id: string;
      version: number;
      interaction: string;
      at: Date;
      patients: string[];
    }>(
      `SELECT pg_snapshot_xmin(s.snap)::text AS x, c.seq, c.xid::text AS xid, c.type, c.id, c.version, c.interaction, c.at, c.patients
         FROM (SELECT pg_current_snapshot() AS snap) s
         LEFT JOIN change_feed c ON c.xid >= $1::xid8 AND pg_visible_in_snapshot(c.xid, s.snap)
          AND NOT EXISTS (SELECT 1 FROM feed_cursor_seen d WHERE d.name = 'subscriptions' AND d.xid = c.xid)
        ORDER BY c.seq`,
      [cursor.horizon],
    );
    const read = rows.filter((r): r is (typeof rows)[number] & FeedChange => r.seq !== null);
    // Writes only: a deleted resource matches no search, and time events are for topics.
    const changes = read.filter((r) => WRITES.has(r.interaction));
    if (read.length) {
      // After the changes were read: every Subscription committed before them is in the copy.
      await subscriptions.refresh(tx);
      const active = [...subscriptions.active()];
      await queueTopicEvents(tx, read, active);
      const queued: { sub: string; change: FeedChange }[] = [];
      for (const change of changes) {
        for (const s of active) {
          if (s.type !== change.type) continue;
          // Confined to patients the change does not concern: it cannot match.
          if (s.patients && !change.patients.some((p) => s.patients?.has(p))) continue;
          queued.push({ sub: s.id, change });
        }
      }
      await enqueue(tx, queued);
    }
    const horizon = rows[0].x;
    if (read.length) {
      await tx.query(
        `INSERT INTO feed_cursor_seen (name, xid) SELECT DISTINCT 'subscriptions', x FROM unnest($1::xid8[]) AS u(x) WHERE x >= $2::xid8 ON CONFLICT DO NOTHING`,
        [read.map((r) => r.xid), horizon],
      );
    }
    // Never backwards (a snapshot's xmin may be older than one seen before), and no write when it did not move.
    const moved = await tx.query(`UPDATE feed_cursor SET horizon = $1::xid8 WHERE name = 'subscriptions' AND horizon < $1::xid8 RETURNING 1`, [horizon]);
    if (moved.length) await tx.query(`DELETE FROM feed_cursor_seen WHERE name = 'subscriptions' AND xid < $1::xid8`, [horizon]);
    return changes.length;
  });
}
