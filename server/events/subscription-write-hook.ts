import type { Subscription } from '@medplum/fhirtypes';
import type { WriteHook } from '../interactions/write-hooks.js';
import { checkSubscription, checkSubscriptionCount, checkSubscriptionOwner, recordSubscription } from './subscription-rules.js';
import { recordTopicSubscription } from './topic-rules.js';

/**
 * A Subscription is checked (criteria, channel) and activated, created within its owner's quota,
 * changed only by its owner, and its
 * owner and delivery state recorded, whichever interaction writes it.
 */
export const subscriptionWriteHook: WriteHook = {
  prepare: (_w, resource) => (resource?.resourceType === 'Subscription' ? checkSubscription(resource as Subscription) : resource),
  async check(w, resource) {
    if (w.target.type !== 'Subscription') return;
    if (w.previous && !w.previous.deleted) await checkSubscriptionOwner(w.tx, w.target.id, w.ctx.access);
    else if (resource) await checkSubscriptionCount(w.tx, w.ctx.access);
  },
  async stored(w, stored, prepared) {
    if (stored?.resourceType !== 'Subscription') return;
    const activated = prepared?.resourceType === 'Subscription' && (prepared as Subscription).status === 'requested';
    await recordSubscription(w.tx, w.target.id, w.ctx.access, activated);
    await recordTopicSubscription(w.tx, w.target.id, stored as Subscription);
  },
};
