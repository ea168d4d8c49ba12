import type { Logger } from 'pino';
import type { Database } from '../store/db.js';
import { deliverSome, type DeliveryDeps } from './delivery.js';
import type { EventFeed } from './feed.js';
import { matchChanges } from './matcher.js';

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
  let running: Promise<void> | undefined;
  let again = false;
  let closed = false;
  const once = async () => {
    await matchChanges(db);
    for (let i = 0; i < PER_RUN && !closed; i++) if (!(await deliverSome({ ...deps, db, processId: feed.id, signal: feed.signal }))) break;
  };
  const wake = () => {
    if (closed) return;
    if (running) {
      again = true;
      return;
    }
    running = (async () => {
      do {
        again = false;
        await once().catch((err: unknown) => log.warn({ err }, 'subscriptions: a run failed; the next one retries'));
      } while (again && !closed);
    })().finally(() => (running = undefined));
  };
  const stop = feed.onChange(wake);
  const timer = setInterval(wake, POLL_MS);
  timer.unref();
  wake();
  return {
    async close() {
      closed = true;
      stop();
      clearInterval(timer);
      await running;
    },
  };
}
