import { randomUUID } from 'node:crypto';
import type { Bundle, BundleEntry, Parameters, ParametersParameter, Resource } from '@medplum/fhirtypes';
import { BACKPORT, type PayloadContent } from './topic-rules.js';

/**
 * The backport's notification Bundle for R4 (profile backport-subscription-notification-r4): a
 * `history` Bundle whose first entry is the subscription's status (a Parameters, profile
 * backport-subscription-status-r4, its request that of a $status call), then one entry per event
 * as the payload content says: none (`empty`), the resource's address and interaction
 * (`id-only`), or the resource itself (`full-resource`; a delete has no resource to carry).
 */
export type NotificationType = 'handshake' | 'heartbeat' | 'event-notification' | 'query-status' | 'query-event';

export interface NotifiedEvent {
  number: number;
  at: Date;
  type: string;
  id: string;
  interaction: string;
  /** The version the event is about (absent for a delete). */
  resource?: Resource;
}

export interface StatusOf {
  fhirBase: string;
  id: string;
  topic: string;
  status: string;
  /** eventsSinceSubscriptionStart. */
  notified: number;
  error?: string;
}

export function subscriptionStatus(s: StatusOf, type: NotificationType, events: NotifiedEvent[], content: PayloadContent): Parameters {
  const parameter: ParametersParameter[] = [
    { name: 'subscription', valueReference: { reference: `${s.fhirBase}/Subscription/${s.id}` } },
    // The IG: the topic SHOULD NOT be named in an empty notification.
    ...(content === 'empty' ? [] : [{ name: 'topic', valueCanonical: s.topic }]),
    { name: 'status', valueCode: s.status },
    { name: 'type', valueCode: type },
    { name: 'events-since-subscription-start', valueString: String(s.notified) },
    ...events.map(
      (e): ParametersParameter => ({
        name: 'notification-event',
        part: [
          { name: 'event-number', valueString: String(e.number) },
          { name: 'timestamp', valueInstant: e.at.toISOString() },
          ...(content === 'empty' ? [] : [{ name: 'focus', valueReference: { reference: `${s.fhirBase}/${e.type}/${e.id}` } }]),
        ],
      }),
    ),
    ...(s.error ? [{ name: 'error', valueCodeableConcept: { text: s.error } }] : []),
  ];
  const id = randomUUID();
  return { resourceType: 'Parameters', id, meta: { profile: [`${BACKPORT}backport-subscription-status-r4`] }, parameter };
}

const METHOD: Record<string, 'POST' | 'PUT' | 'DELETE'> = { create: 'POST', delete: 'DELETE' };

export function notificationBundle(s: StatusOf, type: NotificationType, events: NotifiedEvent[], content: PayloadContent): Bundle {
  const status = subscriptionStatus(s, type, events, content);
  const entries: BundleEntry[] =
    content === 'empty'
      ? []
      : events.map((e) => {
          const method = METHOD[e.interaction] ?? 'PUT';
          return {
            fullUrl: `${s.fhirBase}/${e.type}/${e.id}`,
            ...(content === 'full-resource' && e.resource ? { resource: e.resource } : {}),
            request: { method, url: method === 'POST' ? e.type : `${e.type}/${e.id}` },
          };
        });
  return {
    resourceType: 'Bundle',
    id: randomUUID(),
    meta: { profile: [`${BACKPORT}backport-subscription-notification-r4`] },
    type: 'history',
    timestamp: new Date().toISOString(),
    entry: [
      {
        fullUrl: `urn:uuid:${status.id}`,
        resource: status,
        request: { method: 'GET', url: `${s.fhirBase}/Subscription/${s.id}/$status` },
        response: { status: '200' },
      },
      ...entries,
    ],
  };
}
