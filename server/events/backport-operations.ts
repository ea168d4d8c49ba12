import type { Bundle, Parameters, Subscription } from '@medplum/fhirtypes';
import { visibilityFor } from '../access/principal.js';
import { NO_RULES } from '../access/rules.js';
import { hiddenFromCaller, ownerSql } from '../access/visibility.js';
import { badRequest, notFound } from '../fhir/outcome.js';
import type { Context, FhirRequest, FhirResponse } from '../interactions/context.js';
import type { Dispatch } from '../route.js';
import { SqlParams } from '../search/sql-params.js';
import { notificationBundle, subscriptionStatus, type NotifiedEvent } from './backport-bundle.js';
import { PAYLOAD_CONTENTS, topicSettings, type PayloadContent } from './topic-rules.js';
import { readAs, shownVersion } from './topic-delivery.js';

/**
 * The backport's operations on topic-based Subscriptions, for those who may read them (their
 * owner, administrators, the whole pôle's clients; anyone without authorization):
 * - `$status` (Subscription/$status, Subscription/[id]/$status): a searchset of their status;
 * - `$events` (Subscription/[id]/$events): the notified events again, by event number
 *   (eventsSinceNumber, eventsUntilNumber, inclusive), each read again as the caller now (what
 *   they may no longer see is left out), with the subscription's payload content or `content`.
 */
const MAX_EVENTS = 100;

interface Owned {
  id: string;
  subscription: Subscription;
  notified: number;
  error: string | null;
}

/** The topic-based Subscriptions the caller may see (`ids`, or all), by the rule their reads follow. */
async function ownedSubscriptions(ctx: Context, ids?: string[]): Promise<Owned[]> {
  const p = new SqlParams();
  const visibility = ctx.access ? visibilityFor(ctx.access, ctx.rules ?? NO_RULES) : null;
  const wanted = p.add(ids ?? null);
  const rows = await ctx.db.query<{ id: string; content: string; notified: string; error: string | null }>(
    `SELECT r.id, r.content, t.notified::text AS notified, s.error
       FROM topic_subscription t JOIN subscription_state s ON s.id = t.id
       JOIN resource r ON r.type = 'Subscription' AND r.id = t.id AND NOT r.deleted
      WHERE (${wanted}::text[] IS NULL OR t.id = ANY(${wanted}::text[])) AND ${ownerSql(visibility, 't.id', p)}
      ORDER BY r.id`,
    p.values,
  );
  return rows.map((r) => ({ id: r.id, subscription: JSON.parse(r.content) as Subscription, notified: Number(r.notified), error: r.error }));
}

async function oneOwned(ctx: Context, id: string): Promise<Owned> {
  const [owned] = await ownedSubscriptions(ctx, [id]);
  if (owned) return owned;
  const [exists] = await ctx.db.query(`SELECT 1 FROM resource WHERE type = 'Subscription' AND id = $1 AND NOT deleted`, [id]);
  if (!exists) throw notFound(`Subscription/${id} is not known`);
  const [topicBased] = await ctx.db.query(`SELECT 1 FROM topic_subscription WHERE id = $1`, [id]);
  if (!topicBased) throw badRequest(`Subscription/${id} is not topic-based: $status and $events are for topic-based subscriptions`);
  throw hiddenFromCaller('Subscription', `Subscription/${id}`);
}

const statusOf = (ctx: Context, o: Owned) => ({
  fhirBase: ctx.fhirBase,
  id: o.id,
  topic: o.subscription.criteria as string,
  status: o.subscription.status,
  notified: o.notified,
  ...(o.subscription.status === 'error' && (o.subscription.error || o.error) ? { error: (o.subscription.error || o.error) as string } : {}),
});

/** Parameters given in the query or a Parameters body. */
function params(req: FhirRequest, name: string): string[] {
  const fromQuery = req.query.getAll(name);
  const body = req.body as Parameters | undefined;
  const fromBody =
    body?.resourceType === 'Parameters'
      ? (body.parameter ?? []).filter((p) => p.name === name).map((p) => String(p.valueString ?? p.valueId ?? p.valueCode ?? p.valueUri ?? ''))
      : [];
  return [...fromQuery, ...fromBody];
}

export async function statusOperation(ctx: Context, req: FhirRequest, id?: string): Promise<FhirResponse> {
  const ids = id ? [id] : params(req, 'id').map((v) => v.replace(/^.*Subscription\//, ''));
  const owned = id ? [await oneOwned(ctx, id)] : await ownedSubscriptions(ctx, ids.length ? ids : undefined);
  const statuses = params(req, 'status');
  const shown = owned.filter((o) => !statuses.length || statuses.includes(o.subscription.status));
  const bundle: Bundle = {
    resourceType: 'Bundle',
    type: 'searchset',
    total: shown.length,
    entry: shown.map((o) => {
      const resource = subscriptionStatus(statusOf(ctx, o), 'query-status', [], topicSettings(o.subscription).content);
      return { fullUrl: `urn:uuid:${resource.id}`, resource, search: { mode: 'match' } };
    }),
  };
  return { status: 200, resource: bundle };
}

const wholeNumber = (text: string | undefined, name: string) => {
  if (text === undefined || text === '') return undefined;
  if (!/^\d{1,15}$/.test(text)) throw badRequest(`${name} must be an event number`);
  return Number(text);
};

export async function eventsOperation(ctx: Context, req: FhirRequest, id: string, dispatch: Dispatch): Promise<FhirResponse> {
  const owned = await oneOwned(ctx, id);
  const since = wholeNumber(params(req, 'eventsSinceNumber')[0], 'eventsSinceNumber') ?? 1;
  const until = wholeNumber(params(req, 'eventsUntilNumber')[0], 'eventsUntilNumber') ?? owned.notified;
  const asked = params(req, 'content')[0];
  if (asked && !(PAYLOAD_CONTENTS as readonly string[]).includes(asked)) throw badRequest(`content must be one of ${PAYLOAD_CONTENTS.join(', ')}`);
  const content = (asked as PayloadContent | undefined) ?? topicSettings(owned.subscription).content;
  const rows = await ctx.db.query<{ n: string; type: string; id: string; version: number; interaction: string; at: Date }>(
    `SELECT event_number::text AS n, type, id, version, interaction, at FROM subscription_event
      WHERE subscription = $1 AND event_number BETWEEN $2 AND $3 ORDER BY event_number LIMIT ${MAX_EVENTS}`,
    [id, since, until],
  );
  const events: NotifiedEvent[] = [];
  for (const r of rows) {
    // Read again as the caller, now: an event they may no longer see is not replayed.
    const resource = await readAs({ dispatch, base: ctx, log: ctx.log }, ctx.access, r.type, r.id, shownVersion(r));
    if (!resource) continue;
    events.push({ number: Number(r.n), at: r.at, type: r.type, id: r.id, interaction: r.interaction, ...(r.interaction === 'delete' ? {} : { resource }) });
  }
  return { status: 200, resource: notificationBundle(statusOf(ctx, owned), 'query-event', events, content) };
}
