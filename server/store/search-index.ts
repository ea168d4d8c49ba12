import { copyValue } from './copy-text.js';
import type { Queryable } from './db.js';
import { INDEX_TABLES, type IndexRow, type IndexRows, type Table } from './index-tables.js';

/*
 * Writes the index rows of resources into the index tables (index-tables.ts), one INSERT per table
 * whatever the number of rows.
 */

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
function insertCte(table: Table<IndexRow>, list: IndexRow[], params: unknown[], owner: Owner): string {
  const arrays: unknown[][] = [
    list.map((r) => r.param),
    ...table.columns.map((column) => list.map((r) => (column.whole ? column.value(r) : indexable(column.value(r))))),
    list.map((r) => r.grp ?? null),
  ];
  const types = ['text', ...table.columns.map((column) => column.type), 'integer'];
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
  const values = ['u.c0', ...table.columns.map((column, i) => column.written?.(`u.c${i + 1}`) ?? `u.c${i + 1}`), `u.c${grp}`];
  return `i_${table.name} AS (INSERT INTO sp_${table.name} (rid, type, param, ${table.columns.map((column) => column.name).join(', ')}, grp)
         SELECT ${owner.rid}, ${owner.type}::text, ${values.join(', ')} FROM unnest(${placeholders.join(', ')}) AS u(${names.join(', ')}) ${owner.join ?? ''})`;
}

const tableRows = (rows: IndexRows, table: Table<IndexRow>) => rows[table.name as keyof IndexRows] as IndexRow[];

/**
 * The data-modifying CTEs that write one resource's index rows (and, with `replace`, delete its old
 * ones), to be run in the same statement as the resource row itself: a write costs one round trip
 * for its row, history and whole index, whatever the number of parameters. `rid` is the SQL giving
 * the row id (a placeholder, or a subquery on an INSERT ... RETURNING); `type` a placeholder.
 */
export function indexCtes(rid: string, type: string, rows: IndexRows | null, params: unknown[], replace: boolean): string[] {
  const parts: string[] = [];
  for (const table of INDEX_TABLES) {
    if (replace) parts.push(`d_${table.name} AS (DELETE FROM sp_${table.name} WHERE rid = ${rid})`);
    const list = rows && tableRows(rows, table);
    if (list?.length) parts.push(insertCte(table, list, params, { rid, type }));
  }
  return parts;
}

/**
 * The CTEs that write the index rows of several new resources in one statement: one INSERT per
 * table. `owners` names the CTE with their `rid`, `type` and ordinal `n` (1 for the first of `rows`).
 */
export function batchIndexCtes(owners: string, rows: IndexRows[], params: unknown[], tables = INDEX_TABLES): string[] {
  const parts: string[] = [];
  for (const table of tables) {
    const list = rows.flatMap((r) => tableRows(r, table));
    if (!list.length) continue;
    const ordinals = rows.flatMap((r, i) => tableRows(r, table).map(() => i + 1));
    const n = `c${table.columns.length + 2}`;
    parts.push(insertCte(table, list, params, { rid: 'o.rid', type: 'o.type', ordinals, join: `JOIN ${owners} o ON o.n = u.${n}` }));
  }
  return parts;
}

/** Tables whose values are written as they are, which COPY can take; the others go through SQL (`written`). */
const COPIED = INDEX_TABLES.filter((t) => t.columns.every((c) => !c.written));
const COMPUTED = INDEX_TABLES.filter((t) => !COPIED.includes(t));

/**
 * Writes the index rows of new resources, `owners[i]` (row id and type) those of `rows[i]`: by
 * COPY into each table whose values go in as they are, by one INSERT for the others.
 */
export async function copyIndex(q: Queryable, owners: { rid: number; type: string }[], rows: IndexRows[]): Promise<void> {
  for (const table of COPIED) {
    let text = '';
    for (const [i, r] of rows.entries()) {
      const list = tableRows(r, table);
      if (!list.length) continue;
      const owner = `${copyValue(owners[i].rid)}\t${copyValue(owners[i].type)}\t`;
      for (const row of list) {
        let line = `${owner}${copyValue(row.param)}`;
        for (const column of table.columns) line += `\t${copyValue(column.whole ? column.value(row) : indexable(column.value(row)))}`;
        text += `${line}\t${copyValue(row.grp)}\n`;
      }
    }
    await q.copyFrom(`sp_${table.name} (rid, type, param, ${table.columns.map((column) => column.name).join(', ')}, grp)`, text);
  }
  if (!COMPUTED.some((table) => rows.some((r) => tableRows(r, table).length))) return;
  const params: unknown[] = [owners.map((o) => o.rid), owners.map((o) => o.type)];
  const parts = [`o AS (SELECT * FROM unnest($1::bigint[], $2::text[]) WITH ORDINALITY AS o(rid, type, n))`, ...batchIndexCtes('o', rows, params, COMPUTED)];
  await q.query(`WITH ${parts.join(',\n')} SELECT 1`, params);
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
