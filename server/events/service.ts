import type { Logger } from 'pino';
import type { Database } from '../store/db.js';
import type { DeliveryDeps } from './delivery.js';
import { startDeliveryPool } from './delivery-pool.js';
import type { EventFeed } from './feed.js';
import { matchChanges } from './matcher.js';
import { startRounds } from './rounds.js';
import { SubscriptionCache } from './subscription-cache.js';

/**
 * The subscriptions' work in this process: match the feed's new changes to subscriptions, then
 * wake delivery (delivery-pool.ts), which leases what is due. Matching is woken by the feed (a
 * write committed anywhere) and by a timer (changes that were not yet final when heard, retries
 * falling due, leases of a stopped process to take over); one round at a time. Both work from
 * one copy of the Subscriptions (subscription-cache.ts).
 */
const POLL_MS = 500;

export interface SubscriptionService {
  close(): Promise<void>;
}

export function startSubscriptions(db: Database, feed: EventFeed, deps: Omit<DeliveryDeps, 'processId' | 'db' | 'signal'>, log: Logger): SubscriptionService {
  const subscriptions = new SubscriptionCache();
  const pool = startDeliveryPool({ ...deps, db, processId: feed.id, signal: feed.signal }, subscriptions, log);
  const rounds = startRounds(
    async () => {
      try {
        await matchChanges(db, subscriptions);
      } finally {
        // Whatever the matching: retries may have fallen due, a stopped process's leases run out.
        pool.wake();
      }
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
      await pool.close();
    },
  };
}
