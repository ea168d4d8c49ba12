import type { Access } from '../auth/tokens.js';
import type { Database } from '../store/db.js';
import { ASYNC_COMMIT } from './async-commit.js';

/**
 * Which process delivers which subscription: one at a time per subscription, so that its events go
 * out in their order and, in the normal case, once. A process leases subscriptions with events due
 * (others skip them, and take one over only once its lease ran out or its holder stopped being heard
 * on the feed), several in one statement that also reads their first events due; it lets each go
 * when done, with the events it settled.
 */
const LEASE_SECONDS = 60;
/** How long a lease holder may go unheard on the feed (events/feed.ts heartbeats every 2 s) before another takes over. */
const HOLDER_SILENT = '6 seconds';

export interface QueuedEvent {
  number: number;
  type: string;
  id: string;
  version: number;
  interaction: string;
  at: Date;
  /** A topic-based subscription's number for it, once taken (topic-delivery.ts). */
  eventNumber: number | null;
}

export interface Lease {
  id: string;
  owner: Omit<Access, 'scopes'> | null;
  failures: number;
  /** Its first events due, in order. */
  events: QueuedEvent[];
}

interface Row {
  sub: string;
  owner: Omit<Access, 'scopes'> | null;
  failures: number;
  number: string | null;
  type: string;
  id: string;
  version: number;
  interaction: string;
  at: Date;
  event_number: string | null;
}

/** Leases up to `count` subscriptions with events due, with up to `batch` of each one's events, oldest first. */
export async function takeLeases(db: Database, processId: string, count: number, batch: number): Promise<Lease[]> {
  const rows = await db.query<Row>(
    `WITH ${ASYNC_COMMIT},
     leased AS (
       UPDATE subscription_state s SET lease_owner = $1, lease_until = now() + make_interval(secs => $2)
        WHERE s.id IN (
          SELECT t.id FROM subscription_state t
           -- From the events due (a partial index): not a look at every subscription.
           WHERE t.id IN (SELECT e.subscription FROM subscription_event e WHERE e.delivered IS NULL)
             AND t.next_attempt <= now()
             AND (t.lease_owner IS NULL OR t.lease_until < now()
                  OR NOT EXISTS (SELECT 1 FROM feed_process p WHERE p.id = t.lease_owner AND p.heartbeat > now() - interval '${HOLDER_SILENT}'))
           ORDER BY t.next_attempt LIMIT $3 FOR UPDATE SKIP LOCKED)
        RETURNING s.id, s.owner, s.failures)
     SELECT l.id AS sub, l.owner, l.failures, e.number::text AS number, e.type, e.id, e.version, e.interaction, e.at, e.event_number::text AS event_number
       FROM async_commit, leased l LEFT JOIN LATERAL (
         SELECT * FROM subscription_event e WHERE e.subscription = l.id AND e.delivered IS NULL ORDER BY e.number LIMIT $4) e ON true
      ORDER BY l.id, e.number`,
    [processId, LEASE_SECONDS, count, batch],
  );
  const leases = new Map<string, Lease>();
  for (const r of rows) {
    let lease = leases.get(r.sub);
    if (!lease) leases.set(r.sub, (lease = { id: r.sub, owner: r.owner, failures: r.failures, events: [] }));
    // Leased, with none left (delivered meanwhile): let go as it is.
    if (r.number === null) continue;
    lease.events.push({
      number: Number(r.number),
      type: r.type,
      id: r.id,
      version: r.version,
      interaction: r.interaction,
      at: r.at,
      eventNumber: r.event_number === null ? null : Number(r.event_number),
    });
  }
  return [...leases.values()];
}

/**
 * Lets the lease go, with the events delivered (or withheld) under it marked so, in one statement;
 * `recovered`: deliveries went through after failures, which are forgotten.
 */
export async function releaseLease(db: Database, processId: string, id: string, settled: { number: number; outcome: string }[], recovered: boolean) {
  await db.query(
    `WITH ${ASYNC_COMMIT},
     marked AS (
       UPDATE subscription_event e SET delivered = now(), outcome = o.outcome
         FROM async_commit, unnest($3::bigint[], $4::text[]) AS o(number, outcome)
        WHERE e.subscription = $1 AND e.number = o.number
        RETURNING 1)
     UPDATE subscription_state SET lease_owner = NULL, lease_until = NULL,
            failures = CASE WHEN $5 THEN 0 ELSE failures END, error = CASE WHEN $5 THEN NULL ELSE error END
       FROM async_commit
      WHERE id = $1 AND lease_owner = $2`,
    [id, processId, settled.map((s) => s.number), settled.map((s) => s.outcome), recovered],
  );
}
