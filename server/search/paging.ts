import { isUuid } from '../fhir/ids.js';
import { badRequest } from '../fhir/outcome.js';
import type { SearchRequest } from './parse.js';

/**
 * Keyset paging, for every search (the engine's, the audit trail's): a page is the rows after the
 * sort values of the last row seen (before the first, going back), so that a reader who pages to
 * the end sees no row twice and misses none of those that stayed in place, however the data
 * changes meanwhile. The rows are selected with their sort values as `s0`, `s1`…, and their row
 * id as `rid` when the keys alone do not order every row; a page is read ahead by one row to know
 * whether another follows.
 */

/** A key of the order: its direction; `notNull`, a column never null (ordered as its index is). */
export interface PageKey {
  desc: boolean;
  notNull?: boolean;
}

/** A row of a page: its sort values, and its row id when it breaks ties. */
export type PagedRow = { rid?: number } & Record<`s${number}`, unknown>;

/** One page of rows, in order, and the cursors of the pages beside it. */
export interface Page<R> {
  rows: R[];
  next?: string;
  previous?: string;
  /** Whether it holds every match: a first page with none after it. */
  whole: boolean;
}

/** A page position: the sort values (and row id) of the row it is after (next) or before (previous). */
interface Cursor {
  d: 'next' | 'previous';
  v: (string | null)[];
  rid?: number;
}

export interface Keyset {
  /** The ORDER BY of a page, over `s0`, `s1`… (and `rid`) of `from` (`''` or `alias.`). */
  order(from: string): string;
  /**
   * The condition over `s0`, `s1`… (and `rid`) of the rows past the cursor, its values cast to
   * `casts` (one per key) and bound by `add`; undefined on a first page.
   */
  seek(casts: string[], add: (value: unknown) => string): string | undefined;
  /** The page among `rows` (selected in `order`, `count` + 1 of them at most). */
  page<R extends PagedRow>(rows: R[], count: number): Page<R>;
}

/** The paging of a search in the order of `keys`, then of the row id unless `ridTieBreak` is false, from `cursor` (a link's `_cursor`). */
export function keyset(cursor: string | undefined, keys: PageKey[], ridTieBreak: boolean): Keyset {
  const at = cursor !== undefined ? decodeCursor(cursor, keys.length, ridTieBreak) : undefined;
  // Reading backwards flips every direction; the page is put back in order afterwards.
  const backwards = at?.d === 'previous';
  // A row comparison, when every key is a column in one direction: what a composite index serves.
  const rowWise = keys.length > 0 && keys.every((k) => k.notNull && k.desc === keys[0].desc) && (!ridTieBreak || !keys[0].desc);
  return {
    order: (from) =>
      [
        ...keys.map((k, i) => `${from}s${i} ${k.desc !== backwards ? 'DESC' : 'ASC'}${k.notNull ? '' : ` NULLS ${backwards ? 'FIRST' : 'LAST'}`}`),
        ...(ridTieBreak ? [`${from}rid ${backwards ? 'DESC' : 'ASC'}`] : []),
      ].join(', '),
    seek: (casts, add) => {
      if (!at) return undefined;
      const values = keys.map((_, i) => {
        const v = at.v[i];
        if (v !== null && !fitsCast(v, casts[i])) throw invalidCursor();
        return v === null ? undefined : `${add(v)}::${casts[i]}`;
      });
      if (rowWise && values.every((v) => v !== undefined)) {
        const cols = [...keys.map((_, i) => `s${i}`), ...(ridTieBreak ? ['rid'] : [])];
        const bound = [...values, ...(ridTieBreak ? [add(at.rid)] : [])];
        return `(${cols.join(', ')}) ${keys[0].desc === backwards ? '>' : '<'} (${bound.join(', ')})`;
      }
      return seekSql(keys, values, at, add, ridTieBreak);
    },
    page: (rows, count) => {
      const more = rows.length > count;
      const page = more ? rows.slice(0, count) : rows;
      if (backwards) page.reverse();
      const position = (d: Cursor['d'], row: PagedRow) =>
        encodeCursor({ d, v: keys.map((_, i) => sortValue(row[`s${i}`])), ...(ridTieBreak ? { rid: row.rid } : {}) });
      const first = page[0];
      const last = page[page.length - 1];
      return {
        rows: page,
        next: last && (backwards || more) ? position('next', last) : undefined,
        previous: first && (backwards ? more : !!at) ? position('previous', first) : undefined,
        whole: !at && !more,
      };
    },
  };
}

/**
 * The total a search gives with its page, as `total` asks (`count` counts every match): a page
 * holding every match gives it without counting; beyond it, counting (which may walk a whole
 * type) is done only when asked for.
 */
export async function pageTotal(total: SearchRequest['total'], page: Page<unknown>, count: () => Promise<number | undefined>): Promise<number | undefined> {
  if (page.whole && total !== 'none') return page.rows.length;
  return total === 'page' || total === 'none' ? undefined : count();
}

/**
 * Rows strictly after the cursor in the page order (before it, reading backwards), nulls last:
 * lexicographic over the sort keys, then the row id (unless the keys alone order every row).
 */
function seekSql(keys: PageKey[], values: (string | undefined)[], cursor: Cursor, add: (v: unknown) => string, ridTieBreak: boolean): string {
  const backwards = cursor.d === 'previous';
  const terms: string[] = [];
  const equal: string[] = [];
  keys.forEach((k, i) => {
    const col = `s${i}`;
    const value = values[i];
    const greater = k.desc === backwards; // whether "after" means a greater value
    let beyond: string | undefined;
    if (!backwards) beyond = value ? `(${col} ${greater ? '>' : '<'} ${value}${k.notNull ? '' : ` OR ${col} IS NULL`})` : undefined;
    else beyond = value ? `${col} ${greater ? '>' : '<'} ${value}` : `${col} IS NOT NULL`;
    if (beyond) terms.push([...equal, beyond].join(' AND '));
    equal.push(value ? `${col} = ${value}` : `${col} IS NULL`);
  });
  if (ridTieBreak) terms.push([...equal, `rid ${backwards ? '<' : '>'} ${add(cursor.rid)}`].join(' AND '));
  return terms.map((t) => `(${t})`).join(' OR ');
}

function sortValue(v: unknown): string | null {
  if (v === null || v === undefined) return null;
  return v instanceof Date ? v.toISOString() : String(v);
}

/** Whether a cursor's value can be cast to `cast` (open date bounds are infinite): a forged one is a 400, never an SQL error. */
function fitsCast(v: string, cast: string): boolean {
  if (cast === 'timestamptz') return !Number.isNaN(Date.parse(v)) || /^-?infinity$/i.test(v);
  if (cast === 'uuid') return isUuid(v);
  if (cast === 'numeric') return /^(-?\d+(\.\d+)?(e[+-]?\d+)?|nan|-?infinity)$/i.test(v);
  return true;
}

const encodeCursor = (c: Cursor) => Buffer.from(JSON.stringify(c)).toString('base64url');

const invalidCursor = () => badRequest('Invalid _cursor: page links are only valid with the parameters they came with');

function decodeCursor(text: string, keys: number, ridTieBreak: boolean): Cursor {
  try {
    const c = JSON.parse(Buffer.from(text, 'base64url').toString()) as Cursor;
    const valid =
      (c.d === 'next' || c.d === 'previous') &&
      (!ridTieBreak || Number.isSafeInteger(c.rid)) &&
      Array.isArray(c.v) &&
      c.v.length === keys &&
      c.v.every((v) => v === null || typeof v === 'string');
    if (valid) return c;
  } catch {
    // reported below
  }
  throw invalidCursor();
}
