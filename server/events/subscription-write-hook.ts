import type { Subscription } from '@medplum/fhirtypes';
import type { WriteHook } from '../interactions/write-hooks.js';
import { checkSubscription, checkSubscriptionOwner, recordSubscription } from './subscription-rules.js';
import { recordTopicSubscription } from './topic-rules.js';

/**
 * A Subscription is checked (criteria, channel) and activated, changed only by its owner, and its
 * owner and delivery state recorded, whichever interaction writes it.
 */
export const subscriptionWriteHook: WriteHook = {
  prepare: (_w, resource) => (resource?.resourceType === 'Subscription' ? checkSubscription(resource as Subscription) : resource),
  async check(w) {
    if (w.target.type === 'Subscription' && w.previous && !w.previous.deleted) await checkSubscriptionOwner(w.tx, w.target.id, w.ctx.access);
  },
  async stored(w, stored, prepared) {
    if (stored?.resourceType !== 'Subscription') return;
    const activated = prepared?.resourceType === 'Subscription' && (prepared as Subscription).status === 'requested';
    await recordSubscription(w.tx, w.target.id, w.ctx.access, activated);
    await recordTopicSubscription(w.tx, w.target.id, stored as Subscription);
  },
};
