import type { Subscription } from '@medplum/fhirtypes';
import type { Logger } from 'pino';
import { persist } from '../interactions/write.js';
import type { Database } from '../store/db.js';
import { readCurrent } from '../store/resources.js';
import { notificationBundle } from './backport-bundle.js';
import type { EventFeed } from './feed.js';
import { startRounds } from './rounds.js';
import { raiseTimeEvents } from './time-events.js';
import { sendNotification } from './topic-delivery.js';
import { topicSettings } from './topic-rules.js';

/**
 * What topic-based subscriptions need besides their events, in every process (each row is
 * claimed by one, in the statement that claims it):
 * - the handshake of a rest-hook Subscription written `requested`: a `handshake` notification;
 *   answered, the Subscription becomes `active`, else `error` with the reason (the client asks
 *   again by writing it `requested`); under a lease, so that a process stopped mid-way is relieved;
 * - a `heartbeat` notification when nothing was sent for its heartbeat period;
 * - the time events (time-events.ts), every `timeEventsSeconds`.
 */
const TICK_MS = 1000;
/** How long a process has to make a handshake before another takes it over (it stopped mid-way). */
const HANDSHAKE_LEASE_SECONDS = 30;

export interface TopicChoresDeps {
  db: Database;
  fhirBase: string;
  log: Logger;
  timeEventsSeconds: number;
  dueSoonDays: number;
}

interface Claimed {
  id: string;
  notified: string;
  content: string;
}

async function handshakes(deps: TopicChoresDeps, feed: EventFeed): Promise<void> {
  const { db } = deps;
  for (;;) {
    // Claimed for HANDSHAKE_LEASE_SECONDS: another process skips it meanwhile.
    const [row] = await db.query<Claimed & { version: number }>(
      `WITH c AS (UPDATE topic_subscription SET handshake_until = now() + make_interval(secs => $1)
                   WHERE id = (SELECT t.id FROM topic_subscription t
                                WHERE t.handshake_due AND (t.handshake_until IS NULL OR t.handshake_until < now())
                                  AND EXISTS (SELECT 1 FROM resource r WHERE r.type = 'Subscription' AND r.id = t.id AND NOT r.deleted)
                                LIMIT 1 FOR UPDATE OF t SKIP LOCKED)
                   RETURNING id, notified)
       SELECT c.id, c.notified::text AS notified, r.content, r.version FROM c JOIN resource r ON r.type = 'Subscription' AND r.id = c.id AND NOT r.deleted`,
      [HANDSHAKE_LEASE_SECONDS],
    );
    if (!row) return;
    const subscription = JSON.parse(row.content) as Subscription;
    if (subscription.status !== 'requested') {
      await db.query(`UPDATE topic_subscription SET handshake_due = false WHERE id = $1`, [row.id]);
      continue;
    }
    const settings = topicSettings(subscription);
    const bundle = notificationBundle(
      { fhirBase: deps.fhirBase, id: row.id, topic: settings.topic.url, status: 'requested', notified: Number(row.notified) },
      'handshake',
      [],
      settings.content,
    );
    let outcome: Pick<Subscription, 'status' | 'error'>;
    try {
      await sendNotification({ signal: feed.signal }, row.id, subscription, bundle);
      outcome = { status: 'active', error: undefined };
    } catch (err) {
      outcome = { status: 'error', error: `handshake failed: ${err instanceof Error ? err.message : String(err)}` };
    }
    await db.transaction(async (tx) => {
      const current = await readCurrent(tx, 'Subscription', row.id, true);
      // Written again meanwhile: that version has its own handshake (recordTopicSubscription).
      if (!current || current.deleted || current.version !== row.version) return;
      // Its new status owes no handshake: recordTopicSubscription clears it.
      await persist({ fhirBase: deps.fhirBase }, tx, current, { type: 'Subscription', id: row.id }, { ...subscription, ...outcome }, 'PUT');
    });
    deps.log.info({ subscription: row.id, status: outcome.status }, 'topic subscription: handshake');
  }
}

async function heartbeats(deps: TopicChoresDeps, feed: EventFeed): Promise<void> {
  const rows = await deps.db.query<Claimed>(
    `UPDATE topic_subscription t SET last_sent = now()
       FROM resource r
      WHERE r.type = 'Subscription' AND r.id = t.id AND NOT r.deleted
        AND t.heartbeat_seconds IS NOT NULL AND t.last_sent + make_interval(secs => t.heartbeat_seconds) <= now()
      RETURNING t.id, t.notified::text AS notified, r.content`,
  );
  for (const row of rows) {
    const subscription = JSON.parse(row.content) as Subscription;
    if (subscription.status !== 'active') continue;
    const settings = topicSettings(subscription);
    const bundle = notificationBundle(
      { fhirBase: deps.fhirBase, id: row.id, topic: settings.topic.url, status: 'active', notified: Number(row.notified) },
      'heartbeat',
      [],
      settings.content,
    );
    await sendNotification({ signal: feed.signal }, row.id, subscription, bundle).catch((err: unknown) =>
      deps.log.warn({ err, subscription: row.id }, 'topic subscription: heartbeat not taken'),
    );
  }
}

/**
 * Whether a handshake or a heartbeat is due: a look at topic_subscription alone, each tick of each
 * process, so that a server with nothing due never reads (nor waits on) the resource table for them.
 */
async function choresDue(db: TopicChoresDeps['db']): Promise<boolean> {
  const [row] = await db.query<{ due: boolean }>(
    `SELECT EXISTS (SELECT 1 FROM topic_subscription
                     WHERE (handshake_due AND (handshake_until IS NULL OR handshake_until < now()))
                        OR (heartbeat_seconds IS NOT NULL AND last_sent + make_interval(secs => heartbeat_seconds) <= now())) AS due`,
  );
  return row.due;
}

export function startTopicChores(deps: TopicChoresDeps, feed: EventFeed): { close(): Promise<void> } {
  let nextScan = 0;
  const rounds = startRounds(
    async () => {
      if (await choresDue(deps.db)) {
        await handshakes(deps, feed);
        await heartbeats(deps, feed);
      }
      if (Date.now() >= nextScan) {
        nextScan = Date.now() + deps.timeEventsSeconds * 1000;
        const raised = await raiseTimeEvents(deps.db, new Date(), deps.dueSoonDays);
        if (raised) deps.log.info({ raised }, 'time events raised');
      }
    },
    TICK_MS,
    deps.log,
    'topic subscriptions',
  );
  // A Subscription written (requested): its handshake at once.
  const stop = feed.onChange((type) => {
    if (type === 'Subscription') rounds.wake();
  });
  return {
    async close() {
      stop();
      await rounds.close();
    },
  };
}
