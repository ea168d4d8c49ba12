import type { Bundle, Resource, Subscription } from '@medplum/fhirtypes';
import type { Logger } from 'pino';
import type { Access } from '../auth/tokens.js';
import type { Context, FhirRequest, ServerContext } from '../interactions/context.js';
import type { Dispatch } from '../route.js';
import type { Database } from '../store/db.js';
import { ASYNC_COMMIT } from './async-commit.js';
import { notificationBundle, type NotifiedEvent } from './backport-bundle.js';
import { type Mail, sendEventEmail } from './email.js';
import { resolvedRefusal } from './endpoint.js';
import type { QueuedEvent } from './leases.js';
import { channelHeaders, ownerAccess } from './subscription-rules.js';
import { topicSettings } from './topic-rules.js';

/**
 * Delivers one queued event of a topic-based Subscription (called by delivery.ts, under its lease,
 * in the queue's order). Who may hear it is judged now, as the owner: the version the event is
 * about (for a delete, the version deleted) is read through the dispatch with the owner's access,
 * so the scopes, the équipe-de-soins rules (an opposition registered since included) and the audit
 * trail apply as to any read of theirs. Refused: nothing is sent, no number taken. Else the event
 * takes the subscription's next event number (kept: a retry sends the same), and the notification
 * Bundle goes out on the channel (an email only names the event).
 */
export interface TopicDeliveryDeps {
  db: Database;
  dispatch: Dispatch;
  base: ServerContext;
  log: Logger;
  signal: (payload: string) => Promise<void>;
  mail?: Mail;
}

const TIMEOUT_SECONDS = 10;

/** The version as `access` may read it now (a vread through the dispatch, audited), or undefined when it may not. */
export async function readAs(
  deps: Pick<TopicDeliveryDeps, 'dispatch' | 'base' | 'log'>,
  access: Access | undefined,
  type: string,
  id: string,
  version: number,
): Promise<Resource | undefined> {
  const ctx: Context = { ...deps.base, log: deps.log, ...(access ? { access } : {}) };
  const req: FhirRequest = { method: 'GET', path: [type, id, '_history', String(version)], query: new URLSearchParams(), prefer: {} };
  try {
    const res = await deps.dispatch(ctx, req);
    if (res.status !== 200) return undefined;
    if (res.resource) return res.resource as Resource;
    return res.raw ? (JSON.parse(res.raw) as Resource) : undefined;
  } catch {
    return undefined;
  }
}

/** The version an event shows: the one written, or for a delete the one it deleted. */
export const shownVersion = (e: { interaction: string; version: number }) => (e.interaction === 'delete' ? e.version - 1 : e.version);

export async function deliverTopicEvent(
  deps: TopicDeliveryDeps,
  subscriptionId: string,
  owner: Omit<Access, 'scopes'> | null,
  subscription: Subscription,
  event: QueuedEvent,
): Promise<'sent' | 'withheld'> {
  const settings = topicSettings(subscription);
  const resource = await readAs(deps, ownerAccess(owner), event.type, event.id, shownVersion(event));
  if (!resource) {
    deps.log.info({ subscription: subscriptionId, event: event.number }, 'topic subscription: notification withheld');
    return 'withheld';
  }
  const number = event.eventNumber ?? (await eventNumber(deps.db, subscriptionId, event.number));
  // An email names the event and links to it (email.ts), never the Bundle's content.
  if (subscription.channel.type === 'email') {
    const mailed = { number, type: event.type, id: event.id, interaction: event.interaction, topic: settings.topic.title };
    await sendEventEmail(deps.mail, deps.base.fhirBase, subscriptionId, subscription.channel.endpoint as string, mailed);
    return 'sent';
  }
  const notified: NotifiedEvent = { number, at: event.at, type: event.type, id: event.id, interaction: event.interaction };
  if (event.interaction !== 'delete') notified.resource = resource;
  const bundle = notificationBundle(
    { fhirBase: deps.base.fhirBase, id: subscriptionId, topic: settings.topic.url, status: 'active', notified: number },
    'event-notification',
    [notified],
    settings.content,
  );
  await sendNotification(deps, subscriptionId, subscription, bundle);
  return 'sent';
}

/**
 * The event's number among those notified to the subscription: taken once, at its first delivery,
 * in one statement (the counter moved only when the event has none yet; else the one it has).
 */
async function eventNumber(db: Database, subscription: string, queued: number): Promise<number> {
  const [{ n }] = await db.query<{ n: string }>(
    `WITH ${ASYNC_COMMIT},
     bumped AS (
       UPDATE topic_subscription SET notified = notified + 1, last_sent = now()
         FROM async_commit
        WHERE id = $1 AND EXISTS (SELECT 1 FROM subscription_event WHERE subscription = $1 AND number = $2 AND event_number IS NULL)
        RETURNING notified),
     numbered AS (
       UPDATE subscription_event e SET event_number = bumped.notified FROM bumped
        WHERE e.subscription = $1 AND e.number = $2 RETURNING e.event_number)
     SELECT coalesce((SELECT event_number FROM numbered), (SELECT event_number FROM subscription_event WHERE subscription = $1 AND number = $2))::text AS n`,
    [subscription, queued],
  );
  return Number(n);
}

/**
 * Sends a notification Bundle on the Subscription's channel: a rest-hook POSTs it (Content-Type the
 * channel's payload type, its headers); a websocket hears it through the feed, on whichever process
 * it is bound. Throws when the endpoint did not take it.
 */
export async function sendNotification(deps: Pick<TopicDeliveryDeps, 'signal'>, id: string, subscription: Subscription, bundle: Bundle): Promise<void> {
  if (subscription.channel.type === 'websocket') {
    await deps.signal(`wsb:${id}:${JSON.stringify(bundle)}`);
    return;
  }
  const endpoint = subscription.channel.endpoint as string;
  const refused = await resolvedRefusal(endpoint);
  if (refused) throw new Error(refused);
  const headers = { ...channelHeaders(subscription), 'content-type': subscription.channel.payload || 'application/fhir+json' };
  const seconds = topicSettings(subscription).timeoutSeconds ?? TIMEOUT_SECONDS;
  const res = await fetch(endpoint, {
    method: 'POST',
    headers,
    body: JSON.stringify(bundle),
    redirect: 'manual',
    signal: AbortSignal.timeout(seconds * 1000),
  });
  await res.body?.cancel();
  if (res.status < 200 || res.status >= 300) throw new Error(`POST ${endpoint} answered ${res.status}`);
}
