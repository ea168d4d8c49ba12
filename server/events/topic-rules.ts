import type { Resource, Subscription } from '@medplum/fhirtypes';
import { badRequest } from '../fhir/outcome.js';
import type { Queryable } from '../store/db.js';
import { TOPICS, topicByUrl, type Topic } from './topics.js';

/**
 * What a topic-based Subscription (R4 Backport IG, profile backport-subscription) says: its
 * `criteria` is a topic canonical, `criteria`'s `backport-filter-criteria` extensions narrow it
 * (ANDed, `[param]=[value]`, optionally prefixed `[Type]?` or `[Type].`), the channel's
 * extensions set the payload content, heartbeat period, timeout and max count. Checked when it
 * is written (subscription-rules.ts), read again at each use.
 */
export const BACKPORT = 'http://hl7.org/fhir/uv/subscriptions-backport/StructureDefinition/';
export const PAYLOAD_CONTENTS = ['empty', 'id-only', 'full-resource'] as const;
export type PayloadContent = (typeof PAYLOAD_CONTENTS)[number];
/** The channels a topic-based subscription may use: notifications are Bundles, or emails naming the event. */
export const TOPIC_CHANNELS = ['rest-hook', 'websocket', 'email'];

export interface TopicFilter {
  param: string;
  value: string;
}

export interface TopicSettings {
  topic: Topic;
  filters: TopicFilter[];
  content: PayloadContent;
  heartbeatSeconds?: number;
  timeoutSeconds?: number;
  maxCount?: number;
}

interface Extension {
  url: string;
  valueString?: string;
  valueCode?: string;
  valueUnsignedInt?: number;
  valuePositiveInt?: number;
}
const extensionsOf = (element: unknown) => ((element as { extension?: Extension[] } | undefined)?.extension ?? []) as Extension[];
const extension = (element: unknown, name: string) => extensionsOf(element).find((e) => e.url === BACKPORT + name);

/** Whether the criteria names a topic (a canonical URL), not a search. */
export const isTopicCriteria = (criteria: string | undefined) => /^https?:\/\//.test(criteria ?? '');

/** `Patient/x` for any form of a reference to it (absolute, relative); a bare value stays as it is. */
const referenceKey = (value: string) => value.match(/([A-Za-z]+\/[A-Za-z0-9\-.]{1,64})(\/_history\/[^/]+)?$/)?.[1] ?? value;

function parseFilter(topic: Topic, text: string): TopicFilter {
  let rest = text.trim();
  const prefix = rest.match(/^([A-Z][A-Za-z]+)[?.]/);
  if (prefix) {
    if (prefix[1] !== topic.resource) throw badRequest(`Filter "${text}": topic ${topic.url} is about ${topic.resource}, not ${prefix[1]}`, ['criteria']);
    rest = rest.slice(prefix[0].length);
  }
  const eq = rest.indexOf('=');
  const name = eq < 0 ? '' : rest.slice(0, eq);
  const value = eq < 0 ? '' : decodeURIComponent(rest.slice(eq + 1));
  if (!name || !value) throw badRequest(`Filter "${text}" must be [parameter]=[value]`, ['criteria']);
  if (name.includes(':')) throw badRequest(`Filter "${text}": modifiers are not supported on topic filters`, ['criteria']);
  if (!topic.filters[name]) {
    throw badRequest(`Filter "${text}": topic ${topic.url} filters by ${Object.keys(topic.filters).join(', ')}`, ['criteria']);
  }
  return { param: name, value: referenceKey(value) };
}

/** The settings of a topic-based Subscription; throws a 400 naming what is wrong. */
export function topicSettings(s: Subscription): TopicSettings {
  const topic = topicByUrl(s.criteria);
  if (!topic) throw badRequest(`Subscription.criteria names no topic of this server: ${s.criteria} (see /metadata)`, ['criteria']);
  const { _criteria, channel } = s as Subscription & { _criteria?: unknown };
  const filters = extensionsOf(_criteria)
    .filter((e) => e.url === `${BACKPORT}backport-filter-criteria`)
    .map((e) => parseFilter(topic, e.valueString ?? ''));
  const { _payload } = (channel ?? {}) as { _payload?: unknown };
  const content = (extension(_payload, 'backport-payload-content')?.valueCode ?? (channel?.payload ? 'id-only' : 'empty')) as PayloadContent;
  if (!PAYLOAD_CONTENTS.includes(content)) throw badRequest(`backport-payload-content must be one of ${PAYLOAD_CONTENTS.join(', ')}`, ['channel.payload']);
  const heartbeatSeconds = extension(channel, 'backport-heartbeat-period')?.valueUnsignedInt;
  const timeoutSeconds = extension(channel, 'backport-timeout')?.valueUnsignedInt;
  const maxCount = extension(channel, 'backport-max-count')?.valuePositiveInt;
  for (const [name, v] of [
    ['backport-heartbeat-period', heartbeatSeconds],
    ['backport-timeout', timeoutSeconds],
    ['backport-max-count', maxCount],
  ] as const) {
    if (v !== undefined && (!Number.isInteger(v) || v < 1)) {
      throw badRequest(`${name} must be a positive whole number`, ['channel.extension']);
    }
  }
  return { topic, filters, content, heartbeatSeconds, timeoutSeconds, maxCount };
}

/**
 * The checks of a topic-based Subscription besides its channel's (subscription-rules.ts), and the
 * status it is stored with: a rest-hook written `requested` stays so until its handshake answered
 * (topic-chores.ts); a websocket one is active at once (its handshake goes to each socket that binds), an email one too.
 */
export function checkTopicSubscription(s: Subscription): Subscription {
  const settings = topicSettings(s);
  if (!TOPIC_CHANNELS.includes(s.channel?.type ?? '')) {
    throw badRequest(`A topic-based Subscription's channel.type is one of ${TOPIC_CHANNELS.join(', ')}`, ['channel.type']);
  }
  if (s.channel.payload && !/^application\/(fhir\+)?json(;.*)?$/.test(s.channel.payload)) {
    throw badRequest('channel.payload must be application/fhir+json (or application/json)', ['channel.payload']);
  }
  // A websocket notification goes through the change feed's notifications, whose payload is small.
  if (s.channel.type === 'websocket' && settings.content === 'full-resource') {
    throw badRequest('A websocket topic subscription carries id-only or empty payloads: read the resources it names', ['channel.payload']);
  }
  // An email is no place for a notification without an event.
  if (s.channel.type === 'email' && settings.heartbeatSeconds) {
    throw badRequest('An email topic subscription has no heartbeat (backport-heartbeat-period)', ['channel.extension']);
  }
  if (s.status === 'requested' && s.channel.type !== 'rest-hook') return { ...s, status: 'active', error: undefined };
  return s.status === 'requested' ? { ...s, error: undefined } : s;
}

/** Keeps topic_subscription in step with the stored Subscription (a topic-based one, or none). */
export async function recordTopicSubscription(tx: Queryable, id: string, stored: Subscription): Promise<void> {
  if (!isTopicCriteria(stored.criteria)) {
    await tx.query(`DELETE FROM topic_subscription WHERE id = $1`, [id]);
    return;
  }
  const settings = topicSettings(stored);
  const requested = stored.status === 'requested';
  await tx.query(
    `INSERT INTO topic_subscription (id, topic, heartbeat_seconds, handshake_due) VALUES ($1, $2, $3, $4)
     ON CONFLICT (id) DO UPDATE SET topic = $2, heartbeat_seconds = $3, handshake_due = $4, handshake_until = NULL,
       last_sent = CASE WHEN $4 THEN now() ELSE topic_subscription.last_sent END`,
    [id, settings.topic.url, settings.heartbeatSeconds ?? null, requested && stored.channel.type === 'rest-hook'],
  );
}

/**
 * What a resource carries for each of its topic's filters, as filter values would name it (`Type/id`
 * or the id alone, a code): computed once per change, whatever the number of subscriptions.
 */
export function filterKeys(topic: Topic, resource: Resource): Map<string, Set<string>> {
  const keys = new Map<string, Set<string>>();
  for (const [param, filter] of Object.entries(topic.filters)) {
    const set = new Set<string>();
    for (const v of filter.values(resource)) {
      if (!v) continue;
      set.add(referenceKey(v));
      set.add(v.split('/').pop() as string);
    }
    keys.set(param, set);
  }
  return keys;
}

/** Whether the resource (its filterKeys) carries every filter's value. */
export const filtersMatch = (settings: TopicSettings, keys: Map<string, Set<string>>): boolean =>
  settings.filters.every((f) => keys.get(f.param)?.has(f.value));

export const topicCanonicals = () => TOPICS.map((t) => t.url);
