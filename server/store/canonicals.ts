import type { Queryable } from './db.js';

/**
 * Conformance resources found by canonical URL, through the `url` search index (uri rows of the
 * `url` parameter, which every conformance resource type has). Only current, live resources.
 */

/** The content of every current resource of the type with this canonical URL (several versions may be held). */
export async function readByCanonical(q: Queryable, type: string, url: string): Promise<string[]> {
  const rows = await q.query<{ content: string }>(
    `SELECT r.content FROM sp_uri u JOIN resource r ON r.rid = u.rid
      WHERE u.type = $1 AND u.param = 'url' AND u.value = $2 AND NOT r.deleted`,
    [type, url],
  );
  return rows.map((r) => r.content);
}

/** The canonical URLs of the current resources of a type (from the index alone). */
export async function readCanonicalUrls(q: Queryable, type: string): Promise<string[]> {
  const rows = await q.query<{ url: string }>(`SELECT DISTINCT value AS url FROM sp_uri WHERE type = $1 AND param = 'url'`, [type]);
  return rows.map((r) => r.url);
}

export interface CanonicalHead {
  id: string;
  url: string;
  version: string | null;
  /** meta.source: where the resource came from. */
  source: string | null;
}

/** The id, version and meta.source of the current resources of the type with one of these URLs, without their content. */
export async function readCanonicalHeads(q: Queryable, type: string, urls: string[]): Promise<CanonicalHead[]> {
  return q.query<CanonicalHead>(
    `SELECT r.id, u.value AS url, (r.content::jsonb)->>'version' AS version, (r.content::jsonb)#>>'{meta,source}' AS source
       FROM sp_uri u JOIN resource r ON r.rid = u.rid
      WHERE u.type = $1 AND u.param = 'url' AND u.value = ANY($2::text[]) AND NOT r.deleted`,
    [type, urls],
  );
}

/**
 * What the stored terminology was last changed at: count and latest change of CodeSystem and
 * ValueSet rows (a delete changes it too). One index-only scan.
 */
export async function terminologyWatermark(q: Queryable): Promise<string> {
  const [row] = await q.query<{ n: number; last: Date | null }>(
    `SELECT count(*)::int AS n, max(last_updated) AS last FROM resource WHERE type IN ('CodeSystem', 'ValueSet')`,
  );
  return `${row.n}:${row.last?.getTime() ?? ''}`;
}
