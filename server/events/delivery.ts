import type { Bundle, Resource, Subscription } from '@medplum/fhirtypes';
import type { Logger } from 'pino';
import { bodyOf, type Context, type FhirRequest, type ServerContext } from '../interactions/context.js';
import { persist } from '../interactions/write.js';
import type { Dispatch } from '../route.js';
import type { Database } from '../store/db.js';
import { readCurrent } from '../store/resources.js';
import { type Mail, sendEventEmail } from './email.js';
import { resolvedRefusal } from './endpoint.js';
import { sendNotificationOrder, takesNotificationOrders } from './nde/notification-order.js';
import { type Lease, type QueuedEvent, releaseLease } from './leases.js';
import type { CachedSubscription } from './subscription-cache.js';
import { channelHeaders, ownerAccess, parseCriteria } from './subscription-rules.js';
import { deliverTopicEvent } from './topic-delivery.js';
import { isTopicCriteria } from './topic-rules.js';

/**
 * Delivers each subscription's queued events (subscription_event) in their order, at least once,
 * under the lease of one process at a time (leases.ts; delivery-pool.ts keeps several in
 * delivery at once). A failure is retried after an exponential pause with jitter; after MAX_FAILURES in a row
 * the Subscription goes to `error` with the reason, and its events wait until it is requested again.
 *
 * What is sent is judged at delivery, as the subscriber: the criteria restricted to the changed
 * resource (`_id`), searched through the dispatch with the owner's access, so the scopes, the
 * équipe-de-soins rules of that moment (an opposition registered since included) and the audit
 * trail apply as to any search of theirs. Nothing found: nothing is sent, not even the id; the
 * event is marked withheld (the search left its AuditEvent).
 */
export interface DeliveryDeps {
  db: Database;
  dispatch: Dispatch;
  /** The context of the server's requests (origin, base, rules, audit), without a caller. */
  base: ServerContext;
  log: Logger;
  /** This process's id on the feed (events/feed.ts): the lease holder's name. */
  processId: string;
  /** Tells every process's websockets bound to a subscription (events/websocket.ts), through the feed. */
  signal: (payload: string) => Promise<void>;
  /** Where email notifications go (SMTP_URL), and from whom; absent: email channels fail. */
  mail?: Mail;
}

export const MAX_FAILURES = 5;
const BASE_DELAY_MS = 200;
const MAX_DELAY_MS = 5 * 60_000;
const TIMEOUT_MS = 10_000;

/** The pause before the next attempt after `failures` failures in a row: exponential, with full jitter over its upper half. */
export function retryDelay(failures: number): number {
  const ceiling = Math.min(MAX_DELAY_MS, BASE_DELAY_MS * 2 ** (failures - 1));
  return ceiling / 2 + Math.random() * (ceiling / 2);
}

/**
 * Delivers a leased subscription's events in their order (`cached`: the Subscription as this
 * process's copy has it, refreshed after the lease was taken), then lets the lease go with what
 * was settled. The first failure stops the batch: the events after it wait for the next attempt.
 */
export async function deliverLease(deps: DeliveryDeps, lease: Lease, cached: CachedSubscription | undefined): Promise<void> {
  const { db } = deps;
  const settled: { number: number; outcome: string }[] = [];
  let failure: string | undefined;
  try {
    const subscription = cached?.subscription;
    if (subscription?.status !== 'active') {
      // Deleted: its events go; off or in error: they wait (pushed back, not retried in a loop).
      if (!subscription) await db.query(`DELETE FROM subscription_event WHERE subscription = $1`, [lease.id]);
      else await db.query(`UPDATE subscription_state SET next_attempt = now() + interval '1 minute' WHERE id = $1`, [lease.id]);
      return;
    }
    for (const event of lease.events) {
      try {
        settled.push({ number: event.number, outcome: await deliverOne(deps, lease, subscription, event) });
      } catch (err) {
        failure = err instanceof Error ? err.message : String(err);
        // Failures in a row: one delivered under this lease started the count again.
        await failed(deps, lease.id, settled.length ? 1 : lease.failures + 1, failure);
        return;
      }
    }
  } finally {
    await releaseLease(db, deps.processId, lease.id, settled, !failure && settled.length > 0 && lease.failures > 0);
  }
}

/** Sends one event, or withholds it: 'sent' or 'withheld'. Throws when the endpoint did not take it. */
async function deliverOne(deps: DeliveryDeps, lease: Lease, subscription: Subscription, event: QueuedEvent): Promise<string> {
  if (isTopicCriteria(subscription.criteria)) return deliverTopicEvent(deps, lease.id, lease.owner, subscription, event);
  const { type, query } = parseCriteria(subscription.criteria);
  if (type !== event.type) return 'withheld';
  query.append('_id', event.id);
  const req: FhirRequest = { method: 'GET', path: [type], query, prefer: { handling: 'strict' } };
  const access = ownerAccess(lease.owner);
  const ctx: Context = { ...deps.base, log: deps.log, ...(access ? { access } : {}) };
  let found: Resource | undefined;
  try {
    const res = await deps.dispatch(ctx, req);
    const bundle = bodyOf(res) as Bundle | undefined;
    found = bundle?.entry?.find((e) => e.search?.mode !== 'outcome' && e.resource?.id === event.id)?.resource;
  } catch (err) {
    // Refused (scopes narrowed, a parameter gone): nothing is sent.
    deps.log.info({ err, subscription: lease.id }, 'subscription: notification withheld');
    return 'withheld';
  }
  if (!found) return 'withheld';
  if (subscription.channel.type === 'email') await sendEventEmail(deps.mail, deps.base.fhirBase, lease.id, subscription.channel.endpoint as string, event);
  // R4's websocket channel says `ping [id]` to the sockets bound, wherever they are connected.
  else if (subscription.channel.type === 'websocket') await deps.signal(`ws:${lease.id}`);
  // NdE flux 4: the notification order, to the gestionnaire de notifications at the endpoint.
  else if (takesNotificationOrders(subscription)) return sendNotificationOrder(deps.dispatch, ctx, lease.id, subscription, found);
  else await sendRestHook(deps, subscription, event, found);
  return 'sent';
}

const PAYLOAD_CONTENT = 'http://hl7.org/fhir/uv/subscriptions-backport/StructureDefinition/backport-payload-content';

/**
 * R4's rest-hook: without a payload, a POST with no body (the receiver reads what changed); with
 * one, the resource PUT at [endpoint]/[type]/[id]. The backport's payload-content extension may
 * ask for `empty` or `id-only` (a history Bundle naming the resource, without it) instead.
 */
async function sendRestHook(deps: DeliveryDeps, subscription: Subscription, event: QueuedEvent, resource: Resource): Promise<void> {
  const endpoint = subscription.channel.endpoint as string;
  const refused = await resolvedRefusal(endpoint);
  if (refused) throw new Error(refused);
  const headers = channelHeaders(subscription);
  const payload = subscription.channel.payload;
  const { _payload } = subscription.channel as { _payload?: { extension?: { url: string; valueCode?: string }[] } };
  const content = _payload?.extension?.find((e) => e.url === PAYLOAD_CONTENT)?.valueCode ?? (payload ? 'full-resource' : 'empty');
  let url = endpoint;
  let method = 'POST';
  let body: string | undefined;
  if (content === 'full-resource') {
    url = `${endpoint.replace(/\/$/, '')}/${event.type}/${event.id}`;
    method = 'PUT';
    body = JSON.stringify(resource);
  } else if (content === 'id-only') {
    const fullUrl = `${deps.base.fhirBase}/${event.type}/${event.id}`;
    body = JSON.stringify({
      resourceType: 'Bundle',
      type: 'history',
      entry: [{ fullUrl, request: { method: event.interaction === 'create' ? 'POST' : 'PUT', url: `${event.type}/${event.id}` } }],
    } satisfies Bundle);
  }
  if (body !== undefined) headers['content-type'] = 'application/fhir+json';
  const res = await fetch(url, { method, headers, body, redirect: 'manual', signal: AbortSignal.timeout(TIMEOUT_MS) });
  await res.body?.cancel();
  if (res.status < 200 || res.status >= 300) throw new Error(`${method} ${url} answered ${res.status}`);
}

/** One more failure in a row (`failures` of them): a later attempt, or the Subscription in error with the reason. */
async function failed(deps: DeliveryDeps, id: string, failures: number, reason: string): Promise<void> {
  deps.log.warn({ subscription: id, failures, reason }, 'subscription: delivery failed');
  await deps.db.transaction(async (tx) => {
    await tx.query(`UPDATE subscription_state SET failures = $2, error = $3, next_attempt = now() + make_interval(secs => $4) WHERE id = $1`, [
      id,
      failures,
      reason,
      retryDelay(failures) / 1000,
    ]);
    if (failures < MAX_FAILURES) return;
    const current = await readCurrent(tx, 'Subscription', id, true);
    if (!current || current.deleted) return;
    const latest = JSON.parse(current.content as string) as Subscription;
    if (latest.status !== 'active') return;
    await persist({ fhirBase: deps.base.fhirBase }, tx, current, { type: 'Subscription', id }, { ...latest, status: 'error', error: reason }, 'PUT');
  });
}
