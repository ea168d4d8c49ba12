import type { Subscription } from '@medplum/fhirtypes';
import { hasAdminScope, parseResourceScopes } from '../auth/scopes.js';
import type { Access } from '../auth/tokens.js';
import { badRequest, fail } from '../fhir/outcome.js';
import { beyondLimit, limits } from '../limits.js';
import { parseSearch } from '../search/parse.js';
import type { Queryable } from '../store/db.js';
import { STORAGES } from '../stores/by-type.js';
import { isResourceType } from '../validation/registry.js';
import { endpointRefusal } from './endpoint.js';
import { checkTopicSubscription, isTopicCriteria } from './topic-rules.js';

/**
 * What a Subscription must be to be stored, checked by the write path (interactions/write.ts)
 * whichever interaction writes it: `criteria` a search on one type that the search engine
 * accepts in full (strict handling: a parameter it would ignore is refused), a channel it can
 * deliver on. A Subscription written `requested` is stored `active` (its checks passed), its
 * failures forgotten; the principal that first wrote it owns it (subscription_state).
 */
export const CHANNELS = ['rest-hook', 'websocket', 'email'] as const;

/** The type and query of a criteria (`Encounter?status=finished`). */
export function parseCriteria(criteria: string): { type: string; query: URLSearchParams } {
  const q = criteria.indexOf('?');
  const type = q < 0 ? criteria : criteria.slice(0, q);
  return { type, query: new URLSearchParams(q < 0 ? '' : criteria.slice(q + 1)) };
}

export function checkSubscription(s: Subscription): Subscription {
  if (typeof s.criteria !== 'string' || !s.criteria)
    throw badRequest('Subscription.criteria must be a search on one type, e.g. Encounter?status=finished', ['criteria']);
  // A topic canonical (R4 Backport IG): its own rules, then the channel's below.
  const topicBased = isTopicCriteria(s.criteria) ? checkTopicSubscription(s) : undefined;
  if (!topicBased) checkSearchCriteria(s.criteria);
  const channel = s.channel?.type;
  if (!(CHANNELS as readonly string[]).includes(channel ?? '')) {
    throw badRequest(`Subscription.channel.type must be one of ${CHANNELS.join(', ')}`, ['channel.type']);
  }
  if (channel === 'rest-hook') {
    const refused = endpointRefusal(s.channel.endpoint);
    if (refused) throw badRequest(refused, ['channel.endpoint']);
  }
  if (channel === 'email' && !/^mailto:[^@\s]+@[^@\s]+$/.test(s.channel.endpoint ?? '')) {
    throw badRequest('An email channel.endpoint is mailto:someone@example.org', ['channel.endpoint']);
  }
  for (const h of s.channel.header ?? []) {
    if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+:[^\r\n]*$/.test(h)) throw badRequest(`Subscription.channel.header must be "Name: value": ${h}`, ['channel.header']);
  }
  if (topicBased) return topicBased;
  return s.status === 'requested' ? { ...s, status: 'active', error: undefined } : s;
}

function checkSearchCriteria(criteria: string): void {
  const { type, query } = parseCriteria(criteria);
  if (!isResourceType(type)) throw badRequest(`Subscription.criteria names no resource type: ${type}`, ['criteria']);
  for (const name of ['_include', '_revinclude', '_sort', '_count', '_summary', '_elements', '_total', '_cursor']) {
    if (query.has(name)) throw badRequest(`Subscription.criteria may not use ${name}`, ['criteria']);
  }
  parseSearch([type], query, true, STORAGES);
}

/**
 * Only the client and user that own a Subscription change or delete it (and the server's own work,
 * and administrators): another could otherwise point what it hears, judged as its owner, elsewhere.
 */
export async function checkSubscriptionOwner(tx: Queryable, id: string, access: Access | undefined): Promise<void> {
  if (!access || hasAdminScope(access.scope)) return;
  const [row] = await tx.query<{ owner: Pick<Access, 'clientId' | 'subject'> | null }>('SELECT owner FROM subscription_state WHERE id = $1', [id]);
  if (row && (row.owner?.clientId !== access.clientId || row.owner?.subject !== access.subject)) {
    throw fail(403, 'forbidden', `Subscription/${id} belongs to another client or user: only they change or delete it`);
  }
}

/**
 * A new Subscription is refused when its owner (client and user) already has as many as
 * SUBSCRIPTIONS_PER_OWNER: each is matched against every write of its type, so that one client
 * could otherwise slow every write and every other subscriber's notifications. Administrators and
 * the server's own work are not counted.
 */
export async function checkSubscriptionCount(tx: Queryable, access: Access | undefined): Promise<void> {
  if (!access || hasAdminScope(access.scope)) return;
  // Two creates at once count one after the other.
  await tx.query(`SELECT pg_advisory_xact_lock(hashtext('subscriptions:' || $1 || ' ' || $2))`, [access.clientId, access.subject]);
  const [row] = await tx.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM subscription_state s JOIN resource r ON r.type = 'Subscription' AND r.id = s.id AND NOT r.deleted
      WHERE s.owner->>'clientId' = $1 AND s.owner->>'subject' = $2`,
    [access.clientId, access.subject],
  );
  if (row.n >= limits().subscriptionsPerOwner) throw beyondLimit('subscriptionsPerOwner', 'Subscriptions of one client and user');
}

/** Records who owns the Subscription (the first to write it) and, when it was (re)activated, a fresh delivery state. */
export async function recordSubscription(tx: Queryable, id: string, access: Access | undefined, activated: boolean): Promise<void> {
  // The scopes are kept as granted (text), parsed again at delivery (ownerAccess).
  const owner = access ? JSON.stringify({ ...access, scopes: undefined }) : null;
  await tx.query(
    `INSERT INTO subscription_state (id, owner) VALUES ($1, $2::jsonb)
     ON CONFLICT (id) DO UPDATE SET failures = CASE WHEN $3 THEN 0 ELSE subscription_state.failures END,
       error = CASE WHEN $3 THEN NULL ELSE subscription_state.error END,
       next_attempt = CASE WHEN $3 THEN now() ELSE subscription_state.next_attempt END`,
    [id, owner, activated],
  );
}

/** The owner's access as recordSubscription kept it. */
export function ownerAccess(owner: Omit<Access, 'scopes'> | null): Access | undefined {
  return owner ? { ...owner, scopes: parseResourceScopes(owner.scope) } : undefined;
}

/** The channel's `header` values ("Name: value"), as HTTP headers. */
export function channelHeaders(s: Subscription): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const h of s.channel.header ?? []) {
    const colon = h.indexOf(':');
    headers[h.slice(0, colon).trim()] = h.slice(colon + 1).trim();
  }
  return headers;
}
