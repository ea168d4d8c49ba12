import type { Queryable } from './db.js';

/** A conformance resource row as the registry tracks it. */
export interface ConformanceRow {
  type: string;
  id: string;
  version: number;
  deleted: boolean;
  lastUpdated: Date;
}

/** The rows of these types changed at or after an instant (tombstones included), without content. */
export async function readChangedRows(q: Queryable, types: readonly string[], since: Date): Promise<ConformanceRow[]> {
  return q.query<ConformanceRow>(
    `SELECT type, id, version, deleted, last_updated AS "lastUpdated" FROM resource
      WHERE type = ANY($1::text[]) AND last_updated >= $2`,
    [types, since],
  );
}

/** The current content of resources by type and id. */
export async function readContents(q: Queryable, keys: { type: string; id: string }[]): Promise<{ type: string; id: string; content: string }[]> {
  if (!keys.length) return [];
  return q.query(
    `SELECT r.type, r.id, r.content FROM resource r
       JOIN unnest($1::text[], $2::text[]) AS k(type, id) ON r.type = k.type AND r.id = k.id
      WHERE NOT r.deleted`,
    [keys.map((k) => k.type), keys.map((k) => k.id)],
  );
}
