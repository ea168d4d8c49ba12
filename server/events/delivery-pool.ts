import type { Logger } from 'pino';
import { deliverLease, type DeliveryDeps } from './delivery.js';
import { releaseLease, takeLeases } from './leases.js';
import type { SubscriptionCache } from './subscription-cache.js';

/**
 * Keeps up to CONCURRENCY subscriptions in delivery at once in this process: woken (events
 * matched, a delivery done), it leases as many subscriptions with events due as it has room for,
 * in one statement with their first events, and delivers each on its own (one slow endpoint holds
 * up only its own subscription). Each subscription's events stay in order: it is delivered by one
 * task under one lease at a time.
 */
const CONCURRENCY = 4;
/** Events of one subscription delivered under one lease before others get their turn. */
const BATCH = 50;

export function startDeliveryPool(deps: DeliveryDeps, subscriptions: SubscriptionCache, log: Logger) {
  const inFlight = new Set<Promise<void>>();
  let leasing: Promise<void> | undefined;
  let again = false;
  let closed = false;

  const lease = async () => {
    while (again && !closed) {
      again = false;
      const room = CONCURRENCY - inFlight.size;
      if (room <= 0) return;
      const leases = await takeLeases(deps.db, deps.processId, room, BATCH);
      if (!leases.length) return;
      // After the lease: the copy holds every Subscription whose events were queued.
      await subscriptions.refresh(deps.db).catch(async (err: unknown) => {
        await Promise.all(leases.map((l) => releaseLease(deps.db, deps.processId, l.id, [], false)));
        throw err;
      });
      for (const l of leases) {
        const task: Promise<void> = deliverLease(deps, l, subscriptions.get(l.id))
          .catch((err: unknown) => log.warn({ err, subscription: l.id }, 'subscriptions: a delivery failed; the next lease retries'))
          .finally(() => {
            inFlight.delete(task);
            wake();
          });
        inFlight.add(task);
      }
      // All it had room for: there may be more due.
      if (leases.length === room) again = true;
    }
  };

  const wake = () => {
    if (closed) return;
    again = true;
    if (leasing) return;
    leasing = lease()
      .catch((err: unknown) => {
        // Not at once again: the next wake (the matcher's, each half second at least) retries.
        again = false;
        log.warn({ err }, 'subscriptions: leasing failed; the next wake retries');
      })
      .finally(() => {
        leasing = undefined;
        // Woken after its last look.
        if (again) wake();
      });
  };

  return {
    wake,
    async close() {
      closed = true;
      await leasing;
      await Promise.all(inFlight);
    },
  };
}
