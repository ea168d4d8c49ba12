import type { Subscription } from '@medplum/fhirtypes';
import { compartmentParams } from '../search/compartments.js';
import { searchParamsOf } from '../search/parameters.js';
import type { Queryable } from '../store/db.js';
import { parseCriteria } from './subscription-rules.js';
import { isTopicCriteria, topicSettings, type TopicSettings } from './topic-rules.js';

/**
 * This process's copy of the stored Subscriptions, parsed once, for the matcher (matcher.ts) and
 * delivery (delivery.ts): neither reads every Subscription each round. It follows the change feed
 * by snapshots: a refresh reads, in one statement, the Subscriptions written by the transactions
 * that the snapshot of the previous refresh did not see and the new one does, and keeps the new
 * snapshot. So a refresh sees every Subscription committed before it began, whichever process
 * wrote it, at the cost of a look at the feed's recent rows. The first refresh reads them all.
 * Refreshes may overlap (the matcher's inside its transaction, delivery's outside: waiting for one
 * another could hold the only connection of an embedded database): a version older than the one
 * kept is ignored, and whichever snapshot is kept, what it saw has been read.
 */
export interface CachedSubscription {
  id: string;
  subscription: Subscription;
  /** The type its criteria searches (a search-based one). */
  type?: string;
  /**
   * The patients its criteria confine it to (`patient=` or `subject=Patient/…` on a parameter of
   * its type's Patient compartment), when they do: a change that concerns none of them cannot
   * match, and is not queued for it (an NdE subscription names one patient).
   */
  patients?: Set<string>;
  /** Its topic's settings (a topic-based one); undefined too when its topic is gone. */
  topic?: TopicSettings;
  /** When it ends (milliseconds), if it does. */
  end?: number;
}

interface Row {
  snap: string;
  id: string | null;
  version: number | null;
  content: string | null;
}

export class SubscriptionCache {
  private readonly byId = new Map<string, CachedSubscription>();
  /** The version read of each, deletions included. */
  private readonly versions = new Map<string, number>();
  private snapshot: string | undefined;

  get(id: string): CachedSubscription | undefined {
    return this.byId.get(id);
  }

  /** The Subscriptions that hear events now: active, and not past their `end` (R4: then the server turns it off). */
  *active(): Iterable<CachedSubscription> {
    const now = Date.now();
    for (const s of this.byId.values()) {
      if (s.subscription.status !== 'active') continue;
      if (s.end !== undefined && s.end <= now) continue;
      yield s;
    }
  }

  /** Brings the copy up to date with what is committed now, in one statement. */
  async refresh(q: Queryable): Promise<void> {
    const rows = this.snapshot
      ? await q.query<Row>(
          `WITH s AS (SELECT pg_current_snapshot() AS snap),
                changed AS (SELECT DISTINCT c.id FROM change_feed c, s
                             WHERE c.type = 'Subscription' AND c.xid >= pg_snapshot_xmin($1::pg_snapshot)
                               AND NOT pg_visible_in_snapshot(c.xid, $1::pg_snapshot) AND pg_visible_in_snapshot(c.xid, s.snap))
           SELECT s.snap::text AS snap, changed.id, r.version, CASE WHEN r.deleted THEN NULL ELSE r.content END AS content
             FROM s LEFT JOIN changed ON true LEFT JOIN resource r ON r.type = 'Subscription' AND r.id = changed.id`,
          [this.snapshot],
        )
      : await q.query<Row>(
          `SELECT s.snap::text AS snap, r.id, r.version, r.content
             FROM (SELECT pg_current_snapshot() AS snap) s
             LEFT JOIN resource r ON r.type = 'Subscription' AND NOT r.deleted`,
        );
    for (const { id, version, content } of rows) {
      if (!id || version === null || version < (this.versions.get(id) ?? 0)) continue;
      this.versions.set(id, version);
      if (content) this.byId.set(id, parse(id, JSON.parse(content) as Subscription));
      else this.byId.delete(id);
    }
    this.snapshot = rows[0].snap;
  }
}

function parse(id: string, subscription: Subscription): CachedSubscription {
  const cached: CachedSubscription = { id, subscription, ...(subscription.end ? { end: Date.parse(subscription.end) } : {}) };
  if (!isTopicCriteria(subscription.criteria)) {
    const { type, query } = parseCriteria(subscription.criteria);
    const patients = criteriaPatients(type, query);
    return { ...cached, type, ...(patients ? { patients } : {}) };
  }
  try {
    return { ...cached, topic: topicSettings(subscription) };
  } catch {
    // Written when its topic existed: it hears nothing until it is written again.
    return cached;
  }
}

/**
 * The patients a search's criteria confine it to: the values of its first `patient` or `subject`
 * parameter (no modifier) whose elements are all among those that put a resource of its type in
 * the Patient compartment (change_feed.patients are read from them; Device.patient is not one),
 * each a Patient id or a relative `Patient/[id]`. Undefined when there is none, or a value is
 * anything else (an absolute URL, another type): no confinement is assumed.
 */
function criteriaPatients(type: string, query: URLSearchParams): Set<string> | undefined {
  const params = searchParamsOf(type);
  const paths = (name: string) => (params.get(name)?.expression ?? '').split('|').map((x) => x.trim().replace(/\.where\(\(?resolve\(\) is \w+\)?\)$/, ''));
  const compartment = new Set((compartmentParams('Patient', type) ?? []).flatMap(paths));
  for (const name of ['patient', 'subject']) {
    if (!query.has(name) || !params.has(name) || !paths(name).every((path) => compartment.has(path))) continue;
    const ids = query
      .getAll(name)[0]
      .split(',')
      .map((v) => (name === 'patient' && !v.includes('/') ? v : /^Patient\/(.+)$/.exec(v)?.[1]));
    if (ids.every((id): id is string => !!id && /^[A-Za-z0-9\-.]{1,64}$/.test(id))) return new Set(ids);
  }
  return undefined;
}
