import { RECURRING, type Queryable } from '../store/db.js';
import type { StoredVersion } from '../store/resources.js';
import type { SearchRequest } from './parse.js';
import { includes } from './include.js';
import { keyset, pageTotal } from './paging.js';
import { searchParam, type SearchParam } from './parameters.js';
import { compiler, matchRidsSql, matchSql, namedByHasSql, namedPatient, namesFew, sortKeySql, storedColumns, visible, type Compiler } from './sql.js';
import { withTerminologyCodes } from './terminology.js';
import { accessSql, judgedById, type AccessCheck, type Visibility } from '../access/visibility.js';

export interface SearchResult {
  matches: StoredVersion[];
  /** Resources added by _include and _revinclude. */
  included: StoredVersion[];
  total?: number;
  /** Cursors of the next and previous pages, when there are such pages. */
  next?: string;
  previous?: string;
}

type Row = StoredVersion & Record<`s${number}`, unknown>;

/**
 * Runs a search of the resource tables: one page of matches in the order of `_sort` (then by row
 * id, which makes the order total), paged by keyset (paging.ts). `visibility` is whom the search
 * runs for (null: no équipe-de-soins rule applies).
 */
export async function executeSearch(q: Queryable, req: SearchRequest, fhirBase: string, visibility: Visibility | null): Promise<SearchResult> {
  // A search that names its patient or its resources has few rows to check: one by one. A broad
  // one is counted against the principal's whole list of patients; its page is first sought
  // among its first rows checked one by one (a principal's patients are often neighbours in the
  // table), then against the whole list when those did not fill it.
  const check = narrow(req) ? 'probe' : 'set';
  const filters = await withTerminologyCodes(q, req.filters);
  const patient = namedPatient(req.types, filters, fhirBase);
  // Unsorted, a search by one `_has` alone goes in id order: see namedByHasSql.
  const only = filters.length === 1 ? filters[0] : undefined;
  const byHas = !req.sort.length && req.types.length === 1 && only?.kind === 'has' ? only : undefined;
  const sort = byHas ? [{ param: searchParam(req.types[0], '_id') as SearchParam, desc: false }] : req.sort;
  // Ids are unique within a type: sorted by id last, one type needs no row id to break ties.
  const ridTieBreak = !(req.types.length === 1 && sort.at(-1)?.param.code === '_id');
  // Sorting by id or lastUpdated needs the resource row; by an indexed value, only its row id.
  const rowSorted = sort.some((k) => k.param.code === '_id' || k.param.code === '_lastUpdated');
  /**
   * The rows that match, as a FROM clause over `r` with the compiler holding its values: their ids
   * from the index alone where it can say (matchRidsSql), else the resource table.
   */
  const source = (v: Visibility | null, how: AccessCheck, opts: { unchecked?: boolean; ids?: boolean } = {}) => {
    const c = compiler(fhirBase, v, how);
    if (byHas) return { c, from: namedByHasSql(c, req.types[0], byHas, opts) };
    const rids = opts.ids ? matchRidsSql(c, req.types, filters, opts.unchecked) : undefined;
    return { c, from: rids ? `(${rids}) r` : `resource r WHERE ${matchSql(c, req.types, filters, 'r', { unchecked: opts.unchecked, patient })}` };
  };
  const counted = () => source(visibility, check, { ids: true });
  if (req.count === 0) return { matches: [], included: [], total: await total(q, req, counted()) };

  const paging = keyset(req.cursor, sort, ridTieBreak);
  const order = paging.order;
  // The matching rows in page order, after the cursor, on row ids and sort values alone (from
  // the index where the plan allows): only the page's rows are then read from the resource table.
  const inOrder = ({ c, from }: { c: Compiler; from: string }) => {
    const keys = sort.map((k) => sortKeySql(k, 'r', c.p));
    const select = ['r.rid', ...keys.map((k, i) => `${k.expr} AS s${i}`)].join(', ');
    const seek = paging.seek(
      keys.map((k) => k.cast),
      (v) => c.p.add(v),
    );
    return `SELECT * FROM (SELECT ${select} FROM ${from}) m ${seek ? `WHERE ${seek}` : ''} ORDER BY ${order('')}`;
  };
  const columns = [storedColumns('r'), ...sort.map((_, i) => `page.s${i}`)].join(', ');
  // A page (read ahead by one) among the first candidates, checked one by one in page order so
  // that checking stops at the page's last row; undefined when it must be sought further.
  const probed = async (v: Visibility): Promise<Row[] | undefined> => {
    const s = source(v, 'probe', { unchecked: true, ids: !rowSorted });
    const candidates = `${inOrder(s)} LIMIT ${PROBE_WINDOW}`;
    // The candidates are live rows: the rules need only their row id, but for a few types (judgedById).
    const ridOnly = req.types.length === 1 && !judgedById(req.types[0]);
    const checked = ridOnly
      ? `SELECT c.* FROM (${candidates}) c WHERE ${accessSql(v, 'c', req.types, s.c.p, 'probe')} ORDER BY ${order('c.')} LIMIT ${req.count + 1}`
      : `SELECT c.* FROM (${candidates}) c JOIN resource r ON r.rid = c.rid WHERE ${visible('r', req.types, s.c.p, v, 'probe')} ORDER BY ${order('c.')} LIMIT ${req.count + 1}`;
    const page = await q.query<Row>(
      `SELECT ${columns} FROM (${checked}) page JOIN resource r ON r.rid = page.rid ORDER BY ${order('page.')}`,
      s.c.p.values,
      RECURRING,
    );
    if (page.length > req.count) return page;
    // Not full: final only if the window held every candidate. Counted apart (its own values), and
    // only then: counting the window each time cost a sixth of the search.
    const w = source(v, 'probe', { unchecked: true, ids: !rowSorted });
    const [{ n }] = await q.query<{ n: number }>(`SELECT count(*)::int AS n FROM (${inOrder(w)} LIMIT ${PROBE_WINDOW}) c`, w.c.p.values, RECURRING);
    return n < PROBE_WINDOW ? page : undefined;
  };
  const paged = async (): Promise<Row[]> => {
    const s = source(visibility, check, { ids: !rowSorted });
    const sql = `SELECT ${columns} FROM (${inOrder(s)} LIMIT ${req.count + 1}) page JOIN resource r ON r.rid = page.rid ORDER BY ${order('page.')}`;
    return q.query<Row>(sql, s.c.p.values, RECURRING);
  };
  const page = paging.page((visibility && check === 'set' ? await probed(visibility) : undefined) ?? (await paged()), req.count);
  return {
    matches: page.rows.map(stored),
    included: await includes(q, req.include, page.rows, visibility),
    next: page.next,
    previous: page.previous,
    total: await pageTotal(req.total, page, () => total(q, req, counted())),
  };
}

/**
 * The rows of a broad search checked one by one before its page is sought against the principal's
 * whole list: about a hundred microseconds of probes for a principal who sees a fifth of them,
 * less than listing a thousand patients.
 */
const PROBE_WINDOW = 200;

/** A search that names its resources or its patient: few rows to check against the access rules. */
const narrow = (req: SearchRequest) => req.filters.some(namesFew);

function stored(row: Row): StoredVersion {
  const { rid, type, id, version, lastUpdated, deleted, content } = row;
  return { rid, type, id, version, lastUpdated, deleted, content };
}

async function total(q: Queryable, req: SearchRequest, rows: { c: Compiler; from: string }): Promise<number | undefined> {
  if (req.total === 'none') return undefined;
  const countSql = `SELECT count(*)::int AS n FROM ${rows.from}`;
  const values = rows.c.p.values;
  if (req.total === 'estimate') {
    // The planner's row estimate: free, and good enough to size a result.
    const [plan] = await q.query<{ 'QUERY PLAN': [{ Plan: { Plans?: [{ 'Plan Rows': number }] } }] }>(`EXPLAIN (FORMAT JSON) ${countSql}`, values);
    const rows = plan['QUERY PLAN'][0].Plan.Plans?.[0]['Plan Rows'];
    if (rows !== undefined) return Math.round(rows);
  }
  return (await q.query<{ n: number }>(countSql, values))[0].n;
}
