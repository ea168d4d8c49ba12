import type { Queryable } from './db.js';

/** Rows of a composite parameter carry `grp`, the ordinal of the element they come from. */
interface Row {
  param: string;
  grp?: number;
}

/** The rows one resource version contributes to the search index tables (see 001 and 002). */
export interface IndexRows {
  string: (Row & { value: string; exact: string })[];
  token: (Row & { system: string | null; code: string | null; text: string | null })[];
  /** ISO instants, or '-infinity' / 'infinity' for open ends. */
  date: (Row & { low: string; high: string })[];
  number: (Row & { value: string })[];
  quantity: (Row & {
    system: string | null;
    code: string | null;
    unit: string | null;
    value: string;
    low: string;
    high: string;
  })[];
  uri: (Row & { value: string })[];
  reference: (Row & { targetType: string | null; targetId: string | null; url: string | null })[];
  /** Accent-free text, stored as a 'french' text search document. */
  text: (Row & { value: string })[];
}

export function emptyIndexRows(): IndexRows {
  return { string: [], token: [], date: [], number: [], quantity: [], uri: [], reference: [], text: [] };
}

interface TableSpec<R> {
  columns: string[];
  types: string[];
  pick: (r: R) => unknown[];
  /** What is inserted for each column, from the unnested arrays u.c0, u.c1, … (default: as is). */
  insert?: string[];
}

const TABLES: { [K in keyof IndexRows]: TableSpec<IndexRows[K][number]> } = {
  string: { columns: ['value', 'exact'], types: ['text', 'text'], pick: (r) => [r.value, r.exact] },
  token: { columns: ['system', 'code', 'text'], types: ['text', 'text', 'text'], pick: (r) => [r.system, r.code, r.text] },
  date: { columns: ['low', 'high'], types: ['timestamptz', 'timestamptz'], pick: (r) => [r.low, r.high] },
  number: { columns: ['value', 'low', 'high'], types: ['numeric', 'numeric', 'numeric'], pick: (r) => [r.value, r.value, r.value] },
  quantity: {
    columns: ['system', 'code', 'unit', 'value', 'low', 'high'],
    types: ['text', 'text', 'text', 'numeric', 'numeric', 'numeric'],
    pick: (r) => [r.system, r.code, r.unit, r.value, r.low, r.high],
  },
  uri: { columns: ['value'], types: ['text'], pick: (r) => [r.value] },
  reference: {
    columns: ['target_type', 'target_id', 'url'],
    types: ['text', 'text', 'text'],
    pick: (r) => [r.targetType, r.targetId, r.url],
  },
  text: { columns: ['doc'], types: ['text'], pick: (r) => [r.value], insert: [`to_tsvector('french', u.c1)`] },
};

/**
 * A btree entry holds at most ~2.7 kB: longer text is indexed by its first characters (512
 * characters, 2 kB even in 4-byte UTF-8), so that a long value never fails a write. A search for
 * more than those characters does not match.
 */
const MAX_INDEXED_CHARS = 512;
const indexable = (v: unknown) => (typeof v === 'string' && v.length > MAX_INDEXED_CHARS ? v.slice(0, MAX_INDEXED_CHARS) : v);

/** Whose index rows an INSERT writes: the SQL of their row id and type, and for several resources, the join that gives them. */
interface Owner {
  rid: string;
  type: string;
  /** Per row, the ordinal of its resource in `join` (several resources). */
  ordinals?: number[];
  join?: string;
}

/** The CTE inserting `list` into one index table, from arrays unnested in one placeholder per column. */
function insertCte(table: keyof IndexRows, list: Row[], params: unknown[], owner: Owner): string {
  const spec = TABLES[table] as TableSpec<Row>;
  const arrays: unknown[][] = [list.map((r) => r.param), ...spec.columns.map(() => []), list.map((r) => r.grp ?? null)];
  for (const row of list) spec.pick(row).forEach((v, i) => arrays[i + 1].push(table === 'text' ? v : indexable(v)));
  const types = ['text', ...spec.types, 'integer'];
  if (owner.ordinals) {
    arrays.push(owner.ordinals);
    types.push('integer');
  }
  const placeholders = arrays.map((a, i) => {
    params.push(a);
    return `$${params.length}::${types[i]}[]`;
  });
  const names = types.map((_, i) => `c${i}`);
  const grp = owner.ordinals ? types.length - 2 : types.length - 1;
  const values = ['u.c0', ...(spec.insert ?? spec.columns.map((_, i) => `u.c${i + 1}`)), `u.c${grp}`];
  return `i_${table} AS (INSERT INTO sp_${table} (rid, type, param, ${spec.columns.join(', ')}, grp)
         SELECT ${owner.rid}, ${owner.type}::text, ${values.join(', ')} FROM unnest(${placeholders.join(', ')}) AS u(${names.join(', ')}) ${owner.join ?? ''})`;
}

/**
 * The data-modifying CTEs that write one resource's index rows (and, with `replace`, delete its old
 * ones), to be run in the same statement as the resource row itself: a write costs one round trip
 * for its row, history and whole index, whatever the number of parameters. `rid` is the SQL giving
 * the row id (a placeholder, or a subquery on an INSERT ... RETURNING); `type` a placeholder.
 */
export function indexCtes(rid: string, type: string, rows: IndexRows | null, params: unknown[], replace: boolean): string[] {
  const parts: string[] = [];
  for (const table of Object.keys(TABLES) as (keyof IndexRows)[]) {
    if (replace) parts.push(`d_${table} AS (DELETE FROM sp_${table} WHERE rid = ${rid})`);
    const list = rows?.[table] as Row[] | undefined;
    if (list?.length) parts.push(insertCte(table, list, params, { rid, type }));
  }
  return parts;
}

/**
 * The CTEs that write the index rows of several new resources in one statement: one INSERT per
 * table. `owners` names the CTE with their `rid`, `type` and ordinal `n` (1 for the first of `rows`).
 */
export function batchIndexCtes(owners: string, rows: IndexRows[], params: unknown[]): string[] {
  const parts: string[] = [];
  for (const table of Object.keys(TABLES) as (keyof IndexRows)[]) {
    const list = rows.flatMap((r) => r[table] as Row[]);
    if (!list.length) continue;
    const ordinals = rows.flatMap((r, i) => (r[table] as Row[]).map(() => i + 1));
    const n = `c${TABLES[table].columns.length + 2}`;
    parts.push(insertCte(table, list, params, { rid: 'o.rid', type: 'o.type', ordinals, join: `JOIN ${owners} o ON o.n = u.${n}` }));
  }
  return parts;
}

/**
 * Replaces the index rows of one stored resource (reindexing), and the patients its current
 * version names (`patients`, read from them) where they changed.
 */
export async function writeIndex(q: Queryable, rid: number, type: string, rows: IndexRows | null, patients?: string[]): Promise<void> {
  const params: unknown[] = [rid, type];
  const parts = indexCtes('$1::bigint', '$2', rows, params, true);
  if (patients) {
    params.push(patients);
    parts.push(`p AS (UPDATE resource_version SET patients = $${params.length}::text[]
       WHERE rid = $1 AND version = (SELECT version FROM resource WHERE rid = $1) AND patients IS DISTINCT FROM $${params.length}::text[])`);
  }
  await q.query(`WITH ${parts.join(',\n')} SELECT $1::bigint, $2::text`, params);
}
