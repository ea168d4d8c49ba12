import type { Subscription } from '@medplum/fhirtypes';
import type { Database } from '../store/db.js';
import { notificationBundle } from './backport-bundle.js';
import { isTopicCriteria, topicSettings } from './topic-rules.js';

/**
 * The backport's websocket channel, beside R4's pings (websocket.ts): a socket bound to a
 * topic-based Subscription first hears its `handshake` Bundle, then each notification Bundle
 * (topic-delivery.ts sends them through the feed as `wsb:[id]:[json]`, to every process).
 */
export async function websocketHandshake(db: Database, fhirBase: string, id: string): Promise<string | undefined> {
  const [row] = await db.query<{ content: string; notified: string }>(
    `SELECT r.content, t.notified::text AS notified FROM resource r JOIN topic_subscription t ON t.id = r.id WHERE r.type = 'Subscription' AND r.id = $1 AND NOT r.deleted`,
    [id],
  );
  if (!row) return undefined;
  const subscription = JSON.parse(row.content) as Subscription;
  if (!isTopicCriteria(subscription.criteria)) return undefined;
  const settings = topicSettings(subscription);
  const status = { fhirBase, id, topic: settings.topic.url, status: subscription.status, notified: Number(row.notified) };
  return JSON.stringify(notificationBundle(status, 'handshake', [], settings.content));
}

/** The subscription and Bundle of a `wsb:` signal, or undefined for another signal. */
export function websocketBundle(payload: string): { id: string; json: string } | undefined {
  if (!payload.startsWith('wsb:')) return undefined;
  const colon = payload.indexOf(':', 4);
  return { id: payload.slice(4, colon), json: payload.slice(colon + 1) };
}
