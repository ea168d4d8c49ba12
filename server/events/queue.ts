import type { Queryable } from '../store/db.js';

/** A change of the feed, as the matchers read it. */
export interface FeedChange {
  seq: number;
  type: string;
  id: string;
  version: number;
  interaction: string;
  at: Date;
}

/**
 * Appends changes to subscriptions' delivery queues (subscription_event), numbered per
 * subscription without gaps after its last (subscription_state.events), in the order given.
 */
export async function enqueue(tx: Queryable, queued: { sub: string; change: FeedChange }[]): Promise<void> {
  if (!queued.length) return;
  await tx.query(
    `WITH q AS (SELECT * FROM unnest($1::text[], $2::bigint[], $3::text[], $4::text[], $5::int[], $6::text[], $7::timestamptz[]) WITH ORDINALITY
                 AS q(sub, seq, type, id, version, interaction, at, n)),
          counted AS (SELECT sub, count(*) AS k FROM q GROUP BY sub),
          bumped AS (UPDATE subscription_state s SET events = s.events + counted.k FROM counted WHERE s.id = counted.sub
                     RETURNING s.id, s.events - counted.k AS base)
     INSERT INTO subscription_event (subscription, number, seq, type, id, version, interaction, at)
     SELECT q.sub, bumped.base + row_number() OVER (PARTITION BY q.sub ORDER BY q.n), q.seq, q.type, q.id, q.version, q.interaction, q.at
       FROM q JOIN bumped ON bumped.id = q.sub`,
    [
      queued.map((e) => e.sub),
      queued.map((e) => e.change.seq),
      queued.map((e) => e.change.type),
      queued.map((e) => e.change.id),
      queued.map((e) => e.change.version),
      queued.map((e) => e.change.interaction),
      queued.map((e) => e.change.at),
    ],
  );
}
