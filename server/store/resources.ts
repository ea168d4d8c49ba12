import { careLinkCtes, type CareLink } from './care-links.js';
import type { Queryable } from './db.js';
import type { IndexRows } from './index-tables.js';
import { batchIndexCtes, indexCtes } from './search-index.js';

/** One version of a resource as stored: content is the JSON text, null for a delete. */
export interface StoredVersion {
  rid: number;
  type: string;
  id: string;
  version: number;
  lastUpdated: Date;
  deleted: boolean;
  content: string | null;
}

export interface HistoryEntry extends StoredVersion {
  method: string;
}

const CURRENT = 'SELECT rid, type, id, version, last_updated AS "lastUpdated", deleted, content FROM resource';

/** The current version (or tombstone); `forUpdate` locks the row until the transaction ends. */
export async function readCurrent(q: Queryable, type: string, id: string, forUpdate = false): Promise<StoredVersion | undefined> {
  const rows = await q.query<StoredVersion>(`${CURRENT} WHERE type = $1 AND id = $2${forUpdate ? ' FOR UPDATE' : ''}`, [type, id]);
  return rows[0];
}

export async function readCurrentByRids(q: Queryable, rids: number[]): Promise<StoredVersion[]> {
  if (!rids.length) return [];
  return q.query<StoredVersion>(`${CURRENT} WHERE rid = ANY($1::bigint[])`, [rids]);
}

/** A condition on a version (`resource_version <alias>`) that it must meet to be shown; `add` binds a value. */
export type VersionCondition = (alias: string, add: (value: unknown) => string) => string;

/** Binds values after `params`, for a VersionCondition. */
const binder = (params: unknown[]) => (value: unknown) => {
  params.push(value);
  return `$${params.length}`;
};

/** One version (or tombstone), and whether it meets `visible` (checked in the same statement). */
export async function readVersion(
  q: Queryable,
  type: string,
  id: string,
  version: number,
  visible?: VersionCondition,
): Promise<(HistoryEntry & { visible: boolean }) | undefined> {
  const params: unknown[] = [type, id, version];
  const rows = await q.query<HistoryEntry & { visible: boolean }>(
    `SELECT v.rid, v.type, v.id, v.version, v.last_updated AS "lastUpdated", v.content IS NULL AS deleted, v.content, v.method,
            ${visible ? visible('v', binder(params)) : 'true'} AS visible
       FROM resource r JOIN resource_version v ON v.rid = r.rid
      WHERE r.type = $1 AND r.id = $2 AND v.version = $3`,
    params,
  );
  return rows[0];
}

/** Whether `type/id` ever existed (undefined: never), and then whether some version of it meets `visible`. */
export async function someVersionVisible(q: Queryable, type: string, id: string, visible?: VersionCondition): Promise<boolean | undefined> {
  const params: unknown[] = [type, id];
  const condition = visible ? visible('v', binder(params)) : 'true';
  const rows = await q.query<{ visible: boolean }>(
    `SELECT EXISTS (SELECT 1 FROM resource_version v WHERE v.rid = r.rid AND ${condition}) AS visible FROM resource r WHERE r.type = $1 AND r.id = $2`,
    params,
  );
  return rows[0]?.visible;
}

export interface NewVersion {
  type: string;
  id: string;
  version: number;
  lastUpdated: Date;
  method: 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  content: string | null;
  /** The patients the version names (search/compartments.ts namedPatients); a tombstone keeps those of the version it deletes. */
  patients: string[];
}

/** The interaction a version records in the change feed. */
export function interactionOf(v: NewVersion): 'create' | 'update' | 'patch' | 'delete' {
  if (v.content === null) return 'delete';
  if (v.version === 1) return 'create';
  return v.method === 'PATCH' ? 'patch' : 'update';
}

/**
 * Writes a version in one statement: the current row (inserted for a new resource, else updated
 * from `previous`, which the caller read FOR UPDATE), its history row with the patients it names
 * (a tombstone, those of the version it deletes), its search index rows, its change record
 * (store/migrations/018-change-feed.ts) and, for the types that state them, its care links.
 */
export async function writeVersion(
  q: Queryable,
  previous: StoredVersion | undefined,
  v: NewVersion,
  index: IndexRows | null,
  links?: CareLink[],
): Promise<StoredVersion> {
  const deleted = v.content === null;
  const params: unknown[] = [v.type, v.id, v.version, v.lastUpdated, deleted, v.content, v.method, v.patients];
  let sql: string;
  if (previous) {
    params.push(previous.rid, interactionOf(v));
    // One text for both, so that one prepared statement serves.
    const patients = `CASE WHEN $5 THEN (SELECT patients FROM resource_version WHERE rid = $9 AND version = $3 - 1) ELSE $8::text[] END`;
    const parts = [
      `u AS (UPDATE resource SET version = $3, last_updated = $4, deleted = $5, content = $6 WHERE rid = $9)`,
      `v AS (INSERT INTO resource_version (rid, version, type, id, last_updated, method, content, patients) VALUES ($9, $3, $1, $2, $4, $7, $6, ${patients}))`,
      `c AS (INSERT INTO change_feed (type, id, version, interaction, at, patients) VALUES ($1, $2, $3, $10, $4, ${patients}))`,
      ...indexCtes('$9::bigint', '$1', index, params, true),
      ...careLinkCtes('$9::bigint', links, params, true),
    ];
    sql = `WITH ${parts.join(',\n')} SELECT $9::bigint AS rid`;
  } else {
    params.push(interactionOf(v));
    const parts = [
      `r AS (INSERT INTO resource (type, id, version, last_updated, deleted, content) VALUES ($1, $2, $3, $4, $5, $6) RETURNING rid)`,
      `v AS (INSERT INTO resource_version (rid, version, type, id, last_updated, method, content, patients) SELECT rid, $3, $1, $2, $4, $7, $6, $8::text[] FROM r)`,
      `c AS (INSERT INTO change_feed (type, id, version, interaction, at, patients) VALUES ($1, $2, $3, $9, $4, $8::text[]))`,
      ...indexCtes('(SELECT rid FROM r)', '$1', index, params, false),
      ...careLinkCtes('(SELECT rid FROM r)', links, params, false),
    ];
    sql = `WITH ${parts.join(',\n')} SELECT rid FROM r`;
  }
  const [{ rid }] = await q.query<{ rid: number }>(sql, params, { prepare: true });
  return { rid, type: v.type, id: v.id, version: v.version, lastUpdated: v.lastUpdated, deleted, content: v.content };
}

/**
 * Writes the first versions of new resources (of types without care links) in one statement,
 * whatever their number: the row, history row and index rows of all of them. For writes that
 * come in numbers, such as the audit trail.
 */
export async function createVersions(q: Queryable, versions: { version: NewVersion; index: IndexRows }[]): Promise<void> {
  if (!versions.length) return;
  const params: unknown[] = [];
  const column = (pick: (v: NewVersion) => unknown, type: string) => {
    params.push(versions.map((v) => pick(v.version)));
    return `$${params.length}::${type}[]`;
  };
  const columns = [
    column((v) => v.type, 'text'),
    column((v) => v.id, 'text'),
    column((v) => v.version, 'integer'),
    column((v) => v.lastUpdated, 'timestamptz'),
    column((v) => v.method, 'text'),
  ];
  // The contents as one JSON array: written as a text[] literal, each resource's quotes were
  // escaped by pg and unescaped by PostgreSQL's array parser, at twice the cost.
  params.push(JSON.stringify(versions.map((v) => v.version.content)));
  columns.push(`ARRAY(SELECT c FROM json_array_elements_text($${params.length}::json) WITH ORDINALITY AS j(c, i) ORDER BY i)`);
  // The patients as one JSON array of arrays too: lists of different lengths make no text[][].
  params.push(JSON.stringify(versions.map((v) => v.version.patients)));
  const patients = `ARRAY(SELECT json_array_elements_text($${params.length}::json -> (o.n::int - 1)))`;
  const parts = [
    `input AS (SELECT * FROM unnest(${columns.join(', ')}) WITH ORDINALITY AS u(type, id, version, last_updated, method, content, n))`,
    `r AS (INSERT INTO resource (type, id, version, last_updated, deleted, content)
       SELECT type, id, version, last_updated, false, content FROM input RETURNING rid, type, id)`,
    `o AS (SELECT r.rid, input.* FROM r JOIN input ON input.type = r.type AND input.id = r.id)`,
    `v AS (INSERT INTO resource_version (rid, version, type, id, last_updated, method, content, patients)
       SELECT rid, version, type, id, last_updated, method, content, ${patients} FROM o)`,
    ...batchIndexCtes(
      'o',
      versions.map((v) => v.index),
      params,
    ),
  ];
  await q.query(`WITH ${parts.join(',\n')} SELECT count(*) FROM o`, params);
}

export interface HistoryQuery {
  type?: string;
  id?: string;
  /** Only versions written at or after this instant. */
  since?: Date;
  /** Only versions current at some point within [low, high]. */
  at?: { low: Date; high: Date };
  /** Upper bound fixed by the first page, so later pages never shift as new versions arrive. */
  before: Date;
  count: number;
  offset: number;
  /** A condition each version listed and counted must meet. */
  visible?: VersionCondition;
}

/**
 * History newest first. The total is counted for an instance only: counting a whole type's or
 * the system's history would cost a scan on every page.
 */
export async function readHistory(q: Queryable, h: HistoryQuery): Promise<{ entries: HistoryEntry[]; total?: number }> {
  const where = ['v.last_updated <= $1'];
  const params: unknown[] = [h.before];
  const add = (sql: string, value: unknown) => {
    params.push(value);
    where.push(sql.replace('?', `$${params.length}`));
  };
  if (h.id) {
    params.push(h.type, h.id);
    where.push(`v.rid = (SELECT rid FROM resource WHERE type = $${params.length - 1} AND id = $${params.length})`);
  } else if (h.type) {
    add('v.type = ?', h.type);
  }
  if (h.since) add('v.last_updated >= ?', h.since);
  if (h.at) {
    add('v.last_updated <= ?', h.at.high);
    // ...and not superseded before the period starts
    add(
      `NOT EXISTS (SELECT 1 FROM resource_version n
                    WHERE n.rid = v.rid AND n.version > v.version AND n.last_updated < ?)`,
      h.at.low,
    );
  }
  if (h.visible) where.push(h.visible('v', binder(params)));
  const filter = where.join(' AND ');
  const total = h.id ? (await q.query<{ total: number }>(`SELECT count(*)::int AS total FROM resource_version v WHERE ${filter}`, params))[0].total : undefined;
  const entries = await q.query<HistoryEntry>(
    `SELECT v.rid, v.type, v.id, v.version, v.last_updated AS "lastUpdated", v.content IS NULL AS deleted, v.content, v.method
       FROM resource_version v WHERE ${filter}
      ORDER BY v.last_updated DESC, v.rid DESC, v.version DESC
      LIMIT ${Math.max(0, h.count)} OFFSET ${Math.max(0, h.offset)}`,
    params,
  );
  return { entries, total };
}
