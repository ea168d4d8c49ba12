import type { Resource, Subscription } from '@medplum/fhirtypes';
import type { Queryable } from '../store/db.js';
import { enqueue, type FeedChange } from './queue.js';
import { filtersMatch, topicSettings, type TopicSettings } from './topic-rules.js';
import { topicFires, type Interaction } from './topics.js';

/**
 * The topic-based subscriptions' part of the matcher (matcher.ts, same transaction): each change
 * of the feed read there is compared, version before and after, with the topics of the active
 * topic-based Subscriptions, and queued for those whose topic fires and whose filters it meets
 * (the version after; the one deleted for a delete). Only what the subscriber may see of it is
 * decided later, at delivery.
 */
export async function queueTopicEvents(tx: Queryable, changes: FeedChange[]): Promise<void> {
  if (!changes.length) return;
  const rows = await tx.query<{ id: string; content: string }>(
    `SELECT r.id, r.content FROM topic_subscription t JOIN resource r ON r.type = 'Subscription' AND r.id = t.id AND NOT r.deleted`,
  );
  const subs: { id: string; settings: TopicSettings }[] = [];
  for (const { id, content } of rows) {
    const s = JSON.parse(content) as Subscription;
    if (s.status !== 'active') continue;
    try {
      subs.push({ id, settings: topicSettings(s) });
    } catch {
      // Written when its topic existed: it hears nothing until it is written again.
    }
  }
  const types = new Set(subs.map((s) => s.settings.topic.resource));
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
    for (const sub of subs) {
      const { topic } = sub.settings;
      if (topic.resource !== change.type) continue;
      if (!topicFires(topic, { interaction: change.interaction as Interaction, before, after })) continue;
      if (filtersMatch(sub.settings, shown)) queued.push({ sub: sub.id, change });
    }
  }
  await enqueue(tx, queued);
}
