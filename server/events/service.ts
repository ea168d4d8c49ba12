import type { Logger } from 'pino';
import type { Database } from '../store/db.js';
import { deliverSome, type DeliveryDeps } from './delivery.js';
import type { EventFeed } from './feed.js';
import { matchChanges } from './matcher.js';
import { startRounds } from './rounds.js';

/**
 * The subscriptions' work in this process: match the feed's new changes to subscriptions, then
 * deliver what is due. Woken by the feed (a write committed anywhere) and by a timer (changes that
 * were not yet final when heard, retries falling due, leases of a stopped process to take over).
 * One run at a time; a wake during a run runs it again after.
 */
const POLL_MS = 500;
/** Subscriptions served per run before matching again: one busy subscription does not hold up the feed. */
const PER_RUN = 20;

export interface SubscriptionService {
  close(): Promise<void>;
}

export function startSubscriptions(db: Database, feed: EventFeed, deps: Omit<DeliveryDeps, 'processId' | 'db' | 'signal'>, log: Logger): SubscriptionService {
  const rounds = startRounds(
    async () => {
      await matchChanges(db);
      for (let i = 0; i < PER_RUN && !rounds.closed; i++) if (!(await deliverSome({ ...deps, db, processId: feed.id, signal: feed.signal }))) break;
    },
    POLL_MS,
    log,
    'subscriptions',
  );
  const stop = feed.onChange(rounds.wake);
  return {
    async close() {
      stop();
      await rounds.close();
    },
  };
}
