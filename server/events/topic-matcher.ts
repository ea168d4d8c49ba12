import type { Resource } from '@medplum/fhirtypes';
import type { Queryable } from '../store/db.js';
import { enqueue, type FeedChange } from './queue.js';
import type { CachedSubscription } from './subscription-cache.js';
import { filterKeys, filtersMatch, type TopicSettings } from './topic-rules.js';
import { topicFires, type Interaction, type Topic } from './topics.js';

/**
 * The topic-based subscriptions' part of the matcher (matcher.ts, same transaction): each change
 * of the feed read there is compared, version before and after, with the topics of the active
 * topic-based Subscriptions (the matcher's copy), and queued for those whose topic fires and whose filters it meets
 * (the version after; the one deleted for a delete). Only what the subscriber may see of it is
 * decided later, at delivery.
 */
export async function queueTopicEvents(tx: Queryable, changes: FeedChange[], active: CachedSubscription[]): Promise<void> {
  const byTopic = new Map<Topic, { id: string; settings: TopicSettings }[]>();
  for (const { id, topic } of active) {
    if (!topic) continue;
    const subscribers = byTopic.get(topic.topic) ?? [];
    subscribers.push({ id, settings: topic });
    byTopic.set(topic.topic, subscribers);
  }
  const types = new Set([...byTopic.keys()].map((t) => t.resource));
  const relevant = changes.filter((c) => types.has(c.type));
  if (!relevant.length) return;
  const versions = await tx.query<{ type: string; id: string; version: number; content: string | null }>(
    `SELECT v.type, v.id, v.version, v.content
       FROM unnest($1::text[], $2::text[], $3::int[]) AS c(type, id, version)
       JOIN resource r ON r.type = c.type AND r.id = c.id
       JOIN resource_version v ON v.rid = r.rid AND v.version IN (c.version, c.version - 1)`,
    [relevant.map((c) => c.type), relevant.map((c) => c.id), relevant.map((c) => c.version)],
  );
  const content = new Map(versions.map((v) => [`${v.type}/${v.id}/${v.version}`, v.content ? (JSON.parse(v.content) as Resource) : undefined]));
  const queued: { sub: string; change: FeedChange }[] = [];
  for (const change of relevant) {
    const timed = change.interaction.startsWith('time:');
    const before = timed ? undefined : content.get(`${change.type}/${change.id}/${change.version - 1}`);
    const after = change.interaction === 'delete' ? undefined : content.get(`${change.type}/${change.id}/${change.version}`);
    const shown = after ?? before;
    if (!shown) continue;
    // Whether it fires, and what it carries for the filters: once per topic, not per subscription.
    for (const [topic, subscribers] of byTopic) {
      if (topic.resource !== change.type) continue;
      if (!topicFires(topic, { interaction: change.interaction as Interaction, before, after })) continue;
      const keys = filterKeys(topic, shown);
      for (const sub of subscribers) if (filtersMatch(sub.settings, keys)) queued.push({ sub: sub.id, change });
    }
  }
  await enqueue(tx, queued);
}
