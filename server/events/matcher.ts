import type { Subscription } from '@medplum/fhirtypes';
import type { Database } from '../store/db.js';
import { enqueue, type FeedChange } from './queue.js';
import { parseCriteria } from './subscription-rules.js';
import { queueTopicEvents } from './topic-matcher.js';

const WRITES = new Set(['create', 'update', 'patch']);

/**
 * Turns the change feed into each subscription's queue of events, in one process at a time (the
 * cursor's row is locked, others skip it) and in one transaction: the events are queued, numbered
 * per subscription without gaps, and the cursor moved, all or nothing.
 *
 * What is read is every change of a transaction committed (visible in the snapshot) and not read
 * before: those at or above the horizon (the snapshot's xmin, below which every transaction has
 * ended) are remembered (feed_cursor_seen) until the horizon passes them. So no change is skipped
 * when a lower seq commits after a higher one, and a long transaction delays only its own
 * changes. A resource's versions come in order: the transaction of the next one waited for the
 * previous one's commit (its row lock). A change is queued for each active
 * Subscription on its type; whether it matches the criteria, and whether the subscriber may see
 * it, is decided at delivery, by the search engine and the access rules of that moment.
 * Deletes are not events of a search (a deleted resource matches none); topic-based
 * subscriptions get theirs from topic-matcher.ts, in the same transaction.
 */
export async function matchChanges(db: Database): Promise<number> {
  return db.transaction(async (tx) => {
    const [cursor] = await tx.query<{ horizon: string }>(`SELECT horizon::text FROM feed_cursor WHERE name = 'subscriptions' FOR UPDATE SKIP LOCKED`);
    if (!cursor) return 0;
    const rows = await tx.query<{ x: string; seq: number | null; xid: string; type: string; id: string; version: number; interaction: string; at: Date }>(
      `SELECT pg_snapshot_xmin(s.snap)::text AS x, c.seq, c.xid::text AS xid, c.type, c.id, c.version, c.interaction, c.at
         FROM (SELECT pg_current_snapshot() AS snap) s
         LEFT JOIN change_feed c ON c.xid >= $1::xid8 AND pg_visible_in_snapshot(c.xid, s.snap)
          AND NOT EXISTS (SELECT 1 FROM feed_cursor_seen d WHERE d.name = 'subscriptions' AND d.xid = c.xid)
        ORDER BY c.seq`,
      [cursor.horizon],
    );
    const read = rows.filter((r): r is (typeof rows)[number] & FeedChange => r.seq !== null);
    // Writes only: a deleted resource matches no search, and time events are for topics.
    const changes = read.filter((r) => WRITES.has(r.interaction));
    await queueTopicEvents(tx, read);
    if (changes.length) {
      const subs = await tx.query<{ id: string; content: string }>(
        `SELECT r.id, r.content FROM resource r JOIN subscription_state s ON s.id = r.id WHERE r.type = 'Subscription' AND NOT r.deleted`,
      );
      const byType = new Map<string, string[]>();
      for (const { id, content } of subs) {
        const s = JSON.parse(content) as Subscription;
        // Past its `end`, R4 says the server turns it off: it hears nothing more.
        if (s.status !== 'active' || (s.end && Date.parse(s.end) <= Date.now())) continue;
        const { type } = parseCriteria(s.criteria);
        byType.set(type, [...(byType.get(type) ?? []), id]);
      }
      const queued: { sub: string; change: (typeof changes)[number] }[] = [];
      for (const change of changes) for (const sub of byType.get(change.type) ?? []) queued.push({ sub, change });
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
