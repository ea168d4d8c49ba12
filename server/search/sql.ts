import { parseLocalReference } from '../fhir/ids.js';
import { badRequest } from '../fhir/outcome.js';
import { dateRange } from './dates.js';
import { componentParam } from './extract.js';
import { normalizeString } from './normalize.js';
import { FULL_TEXT_PARAMS, referenceRows, type SearchParam } from './parameters.js';
import type { Filter, SortKey } from './parse.js';
import { SqlParams, typeIs } from './sql-params.js';
import { TERMINOLOGY_MODIFIERS } from './terminology.js';
import { splitBar, splitEscaped, unescape } from './values.js';
import { accessSql, type AccessCheck, type Visibility } from './visibility.js';

/** What compiling needs beside the filters: the parameters, our base URL, whom for and how, and alias depth. */
export interface Compiler {
  p: SqlParams;
  baseUrl: string;
  visibility: Visibility | null;
  check: AccessCheck;
  depth: number;
}

export const compiler = (baseUrl: string, visibility: Visibility | null, check: AccessCheck = 'probe'): Compiler => ({
  p: new SqlParams(),
  baseUrl,
  visibility,
  check,
  depth: 0,
});

/**
 * The condition a resource row (of one of `types`, empty: any) must meet to be returned at all,
 * by a search, an include, a chained or `_has` match, a count: the one place where results are
 * filtered. Deleted resources never are; the équipe-de-soins rules apply to every caller they
 * concern (`visibility`), in SQL, so that no page, total or include shows what they hide.
 */
export function visible(alias: string, types: string[], p: SqlParams, visibility: Visibility | null, check: AccessCheck = 'probe', patient?: string): string {
  const live = `NOT ${alias}.deleted`;
  if (!visibility) return live;
  const access = accessSql(visibility, alias, types, p, check, patient);
  return access === 'true' ? live : `${live} AND ${access}`;
}

/**
 * The patient every match of a search of one type names, when a filter says so (a reference
 * filter on one `Patient/[id]`, or the patient's compartment): the rules check that patient once.
 * A row naming them outside its compartment parameters only is then held to them too (stricter).
 */
export function namedPatient(types: string[], filters: Filter[], baseUrl: string): string | undefined {
  if (types.length !== 1) return undefined;
  for (const f of filters) {
    if (f.kind === 'compartment' && f.target.type === 'Patient') return f.target.id;
    if (f.kind === 'param' && !f.modifier && f.param.type === 'reference' && f.values.length === 1) {
      // Read as the reference condition reads it (referenceCondition): our base, any version.
      const ref = parseLocalReference(f.values[0], baseUrl);
      if (ref?.type === 'Patient') return ref.id;
    }
  }
  return undefined;
}

/** The columns of a StoredVersion, from `resource <alias>`. */
export const storedColumns = (alias: string) =>
  `${alias}.rid, ${alias}.type, ${alias}.id, ${alias}.version, ${alias}.last_updated AS "lastUpdated", ${alias}.deleted, ${alias}.content`;

/**
 * The condition (over `resource <alias>`) that selects the visible resources matching every filter
 * (`unchecked`: the live ones, the rules left to the caller for these rows, not for those that
 * chains and `_has` go through; `patient`: one every row names, see accessSql).
 */
export function matchSql(c: Compiler, types: string[], filters: Filter[], alias: string, how: { unchecked?: boolean; patient?: string } = {}): string {
  const conditions = [how.unchecked ? `NOT ${alias}.deleted` : visible(alias, types, c.p, c.visibility, c.check, how.patient)];
  if (types.length) conditions.push(typeIs(`${alias}.type`, types, c.p));
  for (const f of filters) conditions.push(asCondition(filterSql(c, f, types, alias), alias));
  return conditions.join(' AND ');
}

/**
 * The ids (`rid`) of the resources matching every filter, read from the index alone, when each
 * filter is a set of index rows and no rule needs the resource row (`unchecked`: the caller checks
 * the rows): a search matching a thousand rows then picks its page without reading them. Index
 * rows exist only for live resources, under their own type: being in the set says both.
 * Undefined otherwise.
 */
export function matchRidsSql(c: Compiler, types: string[], filters: Filter[], unchecked = false): string | undefined {
  if (!filters.length) return undefined;
  if (!unchecked && visible('r', types, new SqlParams(), c.visibility, c.check) !== 'NOT r.deleted') return undefined;
  // Compiled once (compiling each nested `_has` twice cost 2^depth), its values taken back when
  // not all are sets: values bound for SQL left unused would fail the statement.
  const bound = c.p.values.length;
  const sets = filters.map((f) => filterSql(c, f, types, 'r'));
  if (!sets.every((f) => 'rids' in f)) {
    c.p.values.length = bound;
    return undefined;
  }
  // A filter that names its resources or their patient drives, the others checked row by row
  // (a lateral probe, which no plan turns round): a prepared search's generic plan, blind to the
  // values, otherwise may merge the patient's few rows with every `status=active` one.
  const driver = filters.findIndex(namesFew);
  const rids = sets.map((f) => (f as { rids: string }).rids);
  const [first, ...rest] = driver > 0 ? [rids[driver], ...rids.filter((_, i) => i !== driver)] : rids;
  if (driver >= 0) return `SELECT DISTINCT m.rid FROM (${first}) m${rest.map((r, i) => ` JOIN LATERAL (SELECT 1 FROM (${r}) f WHERE f.rid = m.rid LIMIT 1) f${i} ON true`).join('')}`;
  // Else the first set drives; the planner may turn the others round (they are semi-joins).
  return `SELECT DISTINCT m.rid FROM (${first}) m${rest.length ? ` WHERE ${rest.map((r) => `m.rid IN (${r})`).join(' AND ')}` : ''}`;
}

/** Whether a filter names its resources (`_id`), their patient (one `Patient/[id]`) or compartment: few rows, whatever the data. */
export function namesFew(f: Filter): boolean {
  if (f.kind === 'compartment') return true;
  if (f.kind !== 'param' || f.modifier) return false;
  return f.param.code === '_id' || (f.param.type === 'reference' && f.values.every((v) => /^Patient\/[^,]+$/.test(v)));
}

/** Compiles a filter once to report a malformed value as a 400 when the request is parsed. */
export function checkFilter(f: Filter): void {
  filterSql(compiler('', null), f, [], 'r');
}

/** A filter as SQL: a condition on the resource row, or the ids of the rows it matches, from the index alone. */
type FilterSql = { where: string } | { rids: string };

const asCondition = (f: FilterSql, alias: string) => ('rids' in f ? `${alias}.rid IN (${f.rids})` : f.where);

function filterSql(c: Compiler, f: Filter, types: string[], alias: string): FilterSql {
  const { p } = c;
  // Index rows only exist for live resources, so subqueries on them need no visibility check.
  const indexed: Indexed = (table, x, param, joins = '') =>
    `SELECT ${x}.rid FROM sp_${table} ${x}${joins} WHERE ${table === 'reference' ? referenceRowsSql(types, param, x, p) : `${types.length ? typeIs(`${x}.type`, types, p) + ' AND ' : ''}${x}.param = ${p.add(param)}`}`;
  switch (f.kind) {
    case 'param':
      return paramSql(c, f, alias, indexed);
    case 'chain': {
      const t = `r${++c.depth}`;
      const inner = `SELECT ${t}.type, ${t}.id FROM resource ${t} WHERE ${matchSql(c, f.targets, [f.next], t)}`;
      return { rids: `${indexed('reference', 'x', f.param.code)} AND (x.target_type, x.target_id) IN (${inner})` };
    }
    case 'has': {
      const sources = hasSources(c, f, 'x.target_type, x.target_id');
      // The resources the sources name, found by their key: a page of them needs no other row.
      const t = `r${++c.depth}`;
      const named = `SELECT ${t}.rid FROM resource ${t} WHERE NOT ${t}.deleted${types.length ? ` AND ${typeIs(`${t}.type`, types, p)}` : ''}`;
      return { rids: `${named} AND (${t}.type, ${t}.id) IN (${sources})` };
    }
    case 'compartment':
      return {
        rids: `SELECT x.rid FROM sp_reference x WHERE ${types.length ? typeIs('x.type', types, p) + ' AND ' : ''}x.param = ANY(${p.add(
          f.params,
        )}::text[]) AND x.target_type = ${p.add(f.target.type)} AND x.target_id = ${p.add(f.target.id)}`,
      };
  }
}

/**
 * The condition on reference rows `x` of one of `types` that they hold the values of `code`: its
 * own rows, or those of the parameters it derives from that point at its target type (referenceRows).
 */
function referenceRowsSql(types: string[], code: string, x: string, p: SqlParams): string {
  if (!types.length) return `${x}.param = ${p.add(code)}`;
  const groups = new Map<string, { rows: ReturnType<typeof referenceRows>; types: string[] }>();
  for (const type of types) {
    const rows = referenceRows(type, code);
    const key = JSON.stringify(rows);
    groups.set(key, { rows, types: [...(groups.get(key)?.types ?? []), type] });
  }
  const conditions = [...groups.values()].map(({ rows, types }) => `${typeIs(`${x}.type`, types, p)} AND ${rowsCondition(rows, x, p)}`);
  return conditions.length === 1 ? conditions[0] : `(${conditions.map((cond) => `(${cond})`).join(' OR ')})`;
}

/** The condition on reference rows `x` that they are where referenceRows says a parameter's values are. */
export function rowsCondition(rows: ReturnType<typeof referenceRows>, x: string, p: SqlParams): string {
  const params = rows.params.length === 1 ? `${x}.param = ${p.add(rows.params[0])}` : `${x}.param = ANY(${p.add(rows.params)}::text[])`;
  return rows.targetType ? `${params} AND ${x}.target_type = ${p.add(rows.targetType)}` : params;
}

type HasFilter = Extract<Filter, { kind: 'has' }>;

/** `columns` of the reference rows by which the sources of a `_has` filter name what it finds. */
function hasSources(c: Compiler, f: HasFilter, columns: string, condition = ''): string {
  const h = `r${++c.depth}`;
  const from = matchRidsSql(c, [f.type], [f.next]) ?? `SELECT ${h}.rid FROM resource ${h} WHERE ${matchSql(c, [f.type], [f.next], h)}`;
  return `SELECT ${columns} FROM sp_reference x WHERE ${referenceRowsSql([f.type], f.param.code, 'x', c.p)}${condition} AND x.rid IN (${from})`;
}

/**
 * The visible resources of `type` that a `_has` filter names, as a FROM clause over `r` to be read
 * in id order: the ids come sorted from the sources' reference rows, and only those a page shows
 * are looked up. In row-id order every one is (a pharmacist's 1,059 patients at 1M resources, for
 * a page of 20: twice the work).
 */
export function namedByHasSql(c: Compiler, type: string, f: HasFilter, how: { unchecked?: boolean }): string {
  const ids = hasSources(c, f, 'DISTINCT x.target_id AS id', ` AND x.target_type = ${c.p.add(type)}`);
  return `(${ids}) s JOIN resource r ON r.type = ${c.p.add(type)} AND r.id = s.id WHERE ${matchSql(c, [type], [], 'r', how)}`;
}

/** `SELECT x.rid FROM sp_<table> x [joins] WHERE <type and param match>`, to extend with conditions. */
type Indexed = (table: string, x: string, param: string, joins?: string) => string;

function paramSql(c: Compiler, f: Extract<Filter, { kind: 'param' }>, alias: string, indexed: Indexed): FilterSql {
  const { p } = c;
  const code = f.param.code;
  const values = f.values;
  if (f.modifier === 'missing') {
    if (values.length !== 1 || (values[0] !== 'true' && values[0] !== 'false')) throw badRequest(`:missing takes true or false`);
    // Every resource has an id and a lastUpdated: :missing=true matches none, :missing=false all.
    if (code === '_id' || code === '_lastUpdated') return { where: values[0] === 'true' ? 'false' : 'true' };
    const exists =
      f.param.type === 'reference'
        ? `EXISTS (${indexed('reference', 'x', code)} AND x.rid = ${alias}.rid)`
        : `EXISTS (SELECT 1 FROM sp_${tableOf(f.param)} x WHERE x.rid = ${alias}.rid AND x.param = ${p.add(f.param.type === 'composite' ? componentParam(code, 0) : code)})`;
    return { where: values[0] === 'true' ? `NOT ${exists}` : exists };
  }
  if (code === '_id') {
    const ids = `${alias}.id = ANY(${p.add(values.map(unescape))}::text[])`;
    return { where: f.modifier === 'not' ? `NOT (${ids})` : ids };
  }
  if (code === '_lastUpdated') {
    return { where: or(values.map((v) => dateCondition(v, `${alias}.last_updated`, `${alias}.last_updated`, p))) };
  }
  if (FULL_TEXT_PARAMS.has(code)) {
    const queries = values.map((v) => `x.doc @@ websearch_to_tsquery('french', ${p.add(normalizeString(unescape(v)))})`);
    return { rids: `${indexed('text', 'x', code)} AND ${or(queries)}` };
  }
  if (f.param.type === 'composite') {
    const sets = values.map((v) => compositeSql(c, f.param, v, indexed));
    return sets.length === 1 ? { rids: sets[0] } : { where: or(sets.map((set) => `${alias}.rid IN (${set})`)) };
  }
  const rows = (param: string, cond: string) => ({ rids: `${indexed(tableOf(f.param), 'x', param)} AND ${cond}` });
  const none = (set: { rids: string }) => ({ where: `NOT (${asCondition(set, alias)})` });
  switch (f.param.type) {
    case 'token':
      if (f.modifier === 'not') return none(rows(code, or(values.map((v) => tokenCondition(v, 'x', p)))));
      if (f.modifier === 'of-type') return rows(`${code}:of-type`, or(values.map((v) => ofTypeCondition(v, p))));
      // The token's own text, or a code whose display in the terminology has those words.
      if (f.modifier === 'text') return rows(code, or([...values.map((v) => textCondition(unescape(v), 'x', p)), codesCondition(f.codes, 'x', p, true)]));
      if (f.modifier === 'not-in') return none(rows(code, codesCondition(f.codes, 'x', p)));
      if (f.modifier && TERMINOLOGY_MODIFIERS.has(f.modifier)) return rows(code, codesCondition(f.codes, 'x', p));
      return rows(code, or(values.map((v) => tokenCondition(v, 'x', p))));
    case 'reference':
      if (f.modifier === 'identifier') {
        return { rids: `${indexed('token', 'x', `${code}:identifier`)} AND ${or(values.map((v) => tokenCondition(v, 'x', p)))}` };
      }
      return rows(code, or(values.map((v) => referenceCondition(unescape(v), f.param.target, f.modifier, 'x', c))));
    default:
      return rows(code, or(values.map((v) => valueCondition(f.param.type, v, f.modifier, 'x', p))));
  }
}

/** The condition of one value of a string, token, date, number, quantity or uri parameter on index alias `x`. */
function valueCondition(type: SearchParam['type'], value: string, modifier: string | undefined, x: string, p: SqlParams): string {
  switch (type) {
    case 'string':
      return stringCondition(unescape(value), modifier, x, p);
    case 'token':
      return tokenCondition(value, x, p);
    case 'date':
      return dateCondition(value, `${x}.low`, `${x}.high`, p);
    case 'number':
      return numberCondition(unescape(value), `${x}.low`, `${x}.high`, p);
    case 'quantity':
      return quantityCondition(value, x, p);
    case 'uri':
      return uriCondition(unescape(value), modifier, x, p);
    default:
      throw badRequest(`Search parameters of type ${type} are not supported here`);
  }
}

/**
 * A composite value `a$b`: rows of each component from the same element (same `grp`), so that
 * `code-value-quantity=loinc|8480-6$gt140` matches the systolic value, not any value.
 */
function compositeSql(c: Compiler, param: SearchParam, value: string, indexed: Indexed): string {
  const components = param.components ?? [];
  const parts = splitEscaped(value, '$');
  if (parts.length !== components.length) throw badRequest(`${param.code} takes ${components.length} values separated by $: ${value}`);
  const [first, ...rest] = components.map((comp, i) => {
    const x = `c${i}`;
    const cond =
      comp.param.type === 'reference'
        ? referenceCondition(unescape(parts[i]), comp.param.target, undefined, x, c)
        : valueCondition(comp.param.type, parts[i], undefined, x, c.p);
    return { table: tableOf(comp.param), x, param: componentParam(param.code, i), cond };
  });
  const joins = rest.map(
    // the type, implied by the rid, is stated so that each component can use its (type, param, …) index
    (r) =>
      ` JOIN sp_${r.table} ${r.x} ON ${r.x}.rid = ${first.x}.rid AND ${r.x}.grp = ${first.x}.grp AND ${r.x}.type = ${first.x}.type` +
      ` AND ${r.x}.param = ${c.p.add(r.param)} AND ${r.cond}`,
  );
  return `${indexed(first.table, first.x, first.param, joins.join(''))} AND ${first.cond}`;
}

const TABLE_OF: Record<string, string> = {
  string: 'string',
  token: 'token',
  date: 'date',
  number: 'number',
  quantity: 'quantity',
  uri: 'uri',
  reference: 'reference',
};

function tableOf(param: SearchParam): string {
  if (FULL_TEXT_PARAMS.has(param.code)) return 'text';
  if (param.type === 'composite') return tableOf(param.components?.[0]?.param ?? param);
  const table = TABLE_OF[param.type as string];
  if (!table) throw badRequest(`Search parameter ${param.code} (${param.type}) is not supported`);
  return table;
}

const or = (parts: string[]) => (parts.length === 1 ? parts[0] : `(${parts.join(' OR ')})`);

const likeEscape = (s: string) => s.replace(/[\\%_]/g, (ch) => '\\' + ch);

function stringCondition(value: string, modifier: string | undefined, x: string, p: SqlParams): string {
  if (modifier === 'exact') return `${x}.exact = ${p.add(value)}`;
  const norm = normalizeString(value);
  if (modifier === 'contains') return `${x}.value LIKE ${p.add('%' + likeEscape(norm) + '%')}`;
  // A prefix as a range in the byte order of the index (text_pattern_ops): the generic plan of a
  // prepared search then uses the index, where with `LIKE $n` it read every value of the parameter.
  const next = successor(norm);
  return next === undefined ? `${x}.value LIKE ${p.add(likeEscape(norm) + '%')}` : `(${x}.value ~>=~ ${p.add(norm)} AND ${x}.value ~<~ ${p.add(next)})`;
}

/** The least text above every text that starts with `prefix`: its last character's successor (none for '' or U+10FFFF). */
function successor(prefix: string): string | undefined {
  const chars = [...prefix];
  const last = chars.pop()?.codePointAt(0);
  if (last === undefined || last === 0x10ffff) return undefined;
  return chars.join('') + String.fromCodePoint(last === 0xd7ff ? 0xe000 : last + 1);
}

function tokenCondition(value: string, x: string, p: SqlParams): string {
  const [system, code] = splitBar(value);
  if (system === undefined) return `${x}.code = ${p.add(code)}`;
  if (system === '') return `(${x}.code = ${p.add(code)} AND ${x}.system IS NULL)`;
  if (code === '') return `${x}.system = ${p.add(system)}`;
  return `(${x}.code = ${p.add(code)} AND ${x}.system = ${p.add(system)})`;
}

/** `:text`: every word of the value begins a word of the token's text (display or CodeableConcept.text). */
function textCondition(value: string, x: string, p: SqlParams): string {
  // Words are letters and digits only, so they need no escaping in the pattern.
  const words = normalizeString(value).split(/[^\p{L}\p{N}]+/u).filter(Boolean);
  if (!words.length) return `${x}.text IS NOT NULL`;
  return words.map((w) => `${x}.text ~ ${p.add(`(^|[^[:alnum:]])${w}`)}`).join(' AND ');
}

/**
 * The codes a terminology modifier stands for (see terminology.ts): a token matches one in its
 * system, or by code alone when either has no system (unless `sameSystem`). Not yet resolved
 * (when a request is parsed): none.
 */
function codesCondition(codes: Extract<Filter, { kind: 'param' }>['codes'], x: string, p: SqlParams, sameSystem = false): string {
  const withSystem = (codes ?? []).filter((c) => c.system !== undefined);
  const bare = (codes ?? []).filter((c) => c.system === undefined).map((c) => c.code);
  const parts: string[] = [];
  if (withSystem.length) {
    const pairs = `SELECT * FROM unnest(${p.add(withSystem.map((c) => c.system))}::text[], ${p.add(withSystem.map((c) => c.code))}::text[])`;
    // The code alone first: it is what the token index is ordered by.
    const system = sameSystem ? '' : `${x}.system IS NULL OR `;
    parts.push(`(${x}.code = ANY(${p.add([...new Set(withSystem.map((c) => c.code))])}::text[]) AND (${system}(${x}.system, ${x}.code) IN (${pairs})))`);
  }
  if (bare.length) parts.push(`${x}.code = ANY(${p.add(bare)}::text[])`);
  return parts.length ? or(parts) : 'false';
}

function ofTypeCondition(value: string, p: SqlParams): string {
  const parts = splitEscaped(value, '|');
  if (parts.length !== 3) throw badRequest(`:of-type takes system|code|value: ${value}`);
  const [system, code, id] = parts.map(unescape);
  return `(x.system = ${p.add(system)} AND x.code = ${p.add(`${code}|${id}`)})`;
}

const PREFIXES = ['eq', 'ne', 'gt', 'lt', 'ge', 'le', 'sa', 'eb', 'ap'] as const;
type Prefix = (typeof PREFIXES)[number];

function splitPrefix(value: string): [Prefix, string] {
  const p = value.slice(0, 2) as Prefix;
  return PREFIXES.includes(p) && /^[a-z]{2}[-+0-9.]/.test(value) ? [p, value.slice(2)] : ['eq', value];
}

/** Date prefixes over ranges, as FHIR R4 search.html#prefix defines them. */
export function dateCondition(value: string, low: string, high: string, p: SqlParams): string {
  const [prefix, raw] = splitPrefix(value);
  const range = dateRange(raw);
  if (!range) throw badRequest(`Invalid date search value: ${value}`);
  // Placeholders are added only when used: PostgreSQL cannot type an unused one.
  let slp: string | undefined;
  let shp: string | undefined;
  const sl = () => (slp ??= `${p.add(range.low.toISOString())}::timestamptz`);
  const sh = () => (shp ??= `${p.add(range.high.toISOString())}::timestamptz`);
  // `low <= sh` follows from the others (low <= high); stated, it bounds an index range on low.
  const eq = () => `(${low} >= ${sl()} AND ${low} <= ${sh()} AND ${high} <= ${sh()})`;
  const conditions: Record<Prefix, () => string> = {
    eq,
    ne: () => `NOT ${eq()}`,
    gt: () => `${high} > ${sh()}`,
    lt: () => `${low} < ${sl()}`,
    ge: () => `(${high} > ${sh()} OR ${eq()})`,
    le: () => `(${low} < ${sl()} OR ${eq()})`,
    sa: () => `${low} > ${sh()}`,
    eb: () => `${high} < ${sl()}`,
    ap: () => {
      // approximately: the ranges overlap once the search range is widened by 10% of its distance from now
      const margin = Math.max(Math.abs(Date.now() - range.low.getTime()) * 0.1, 86_400_000);
      const al = p.add(new Date(range.low.getTime() - margin).toISOString());
      const ah = p.add(new Date(range.high.getTime() + margin).toISOString());
      return `(${low} <= ${ah}::timestamptz AND ${high} >= ${al}::timestamptz)`;
    },
  };
  return conditions[prefix]();
}

/** The implicit range of a decimal search value: 100 means [99.5, 100.5), 1.50 means [1.495, 1.505). */
function numberRange(raw: string): { value: number; low: number; high: number } {
  if (!/^[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?$/.test(raw)) throw badRequest(`Invalid number search value: ${raw}`);
  const value = Number(raw);
  const [mantissa, exp] = raw.toLowerCase().split('e');
  const decimals = mantissa.includes('.') ? mantissa.split('.')[1].length : 0;
  const half = 0.5 * 10 ** (-decimals + Number(exp ?? 0));
  return { value, low: value - half, high: value + half };
}

/** Number prefixes, over stored values that may be ranges [low, high] (a Range, a `<5` quantity). */
function numberCondition(value: string, low: string, high: string, p: SqlParams): string {
  const [prefix, raw] = splitPrefix(value);
  const n = numberRange(raw);
  const v = () => p.add(String(n.value));
  // `low < high bound` follows from the others; stated, it bounds an index range on low.
  let hp: string | undefined;
  const h = () => (hp ??= `${p.add(String(n.high))}::numeric`);
  const eq = () => `(${low} >= ${p.add(String(n.low))}::numeric AND ${low} < ${h()} AND ${high} < ${h()})`;
  const above = () => `${high} > ${v()}::numeric`;
  const below = () => `${low} < ${v()}::numeric`;
  const conditions: Record<Prefix, () => string> = {
    eq,
    ne: () => `NOT ${eq()}`,
    gt: above,
    sa: above,
    lt: below,
    eb: below,
    ge: () => `${high} >= ${v()}::numeric`,
    le: () => `${low} <= ${v()}::numeric`,
    ap: () => {
      const margin = Math.abs(n.value) * 0.1;
      return `(${low} <= ${p.add(String(n.value + margin))}::numeric AND ${high} >= ${p.add(String(n.value - margin))}::numeric)`;
    },
  };
  return conditions[prefix]();
}

/** `[prefix]number|system|code`; with no system, the code matches the unit too. */
function quantityCondition(value: string, x: string, p: SqlParams): string {
  const [num, system, code] = splitEscaped(value, '|').map(unescape);
  const conds = [numberCondition(num, `${x}.low`, `${x}.high`, p)];
  if (system) conds.push(`${x}.system = ${p.add(system)}`);
  if (code) conds.push(system ? `${x}.code = ${p.add(code)}` : `(${x}.code = ${p.add(code)} OR ${x}.unit = ${p.add(code)})`);
  return `(${conds.join(' AND ')})`;
}

function uriCondition(value: string, modifier: string | undefined, x: string, p: SqlParams): string {
  if (modifier === 'below') return `${x}.value LIKE ${p.add(likeEscape(value) + '%')}`;
  if (modifier === 'above') {
    return `${p.add(value)} LIKE replace(replace(replace(${x}.value, '\\', '\\\\'), '%', '\\%'), '_', '\\_') || '%'`;
  }
  return `${x}.value = ${p.add(value)}`;
}

/** `Type/id`, our absolute URL, a bare id (any target type, or the `:[type]` modifier's), or another URL. */
function referenceCondition(value: string, targets: string[], modifier: string | undefined, x: string, c: Compiler): string {
  const { p } = c;
  const local = parseLocalReference(value, c.baseUrl);
  if (local) {
    if (modifier && modifier !== local.type) throw badRequest(`${value} is not a ${modifier} reference`);
    return `(${x}.target_type = ${p.add(local.type)} AND ${x}.target_id = ${p.add(local.id)})`;
  }
  if (/^[A-Za-z0-9\-.]{1,64}$/.test(value)) {
    const types = modifier ? [modifier] : targets;
    const id = `${x}.target_id = ${p.add(value)}`;
    return types.length ? `(${id} AND ${typeIs(`${x}.target_type`, types, p)})` : id;
  }
  return `${x}.url = ${p.add(value)}`;
}

/** A sort key's value for a resource row, and the SQL type its cursor values are cast to. */
export function sortKeySql(key: SortKey, alias: string, p: SqlParams): { expr: string; cast: string } {
  const { code, type } = key.param;
  if (code === '_id') return { expr: `${alias}.id`, cast: 'text' };
  if (code === '_lastUpdated') return { expr: `${alias}.last_updated`, cast: 'timestamptz' };
  const agg = key.desc ? 'max' : 'min';
  const column: Record<string, [string, string]> = {
    string: ['value', 'text'],
    token: ['code', 'text'],
    date: ['low', 'timestamptz'], // the start: an open end would tie every ongoing period
    number: ['value', 'numeric'],
    quantity: ['value', 'numeric'],
    uri: ['value', 'text'],
    reference: [`coalesce(x.target_type || '/' || x.target_id, x.url)`, 'text'],
  };
  const [col, cast] = column[type as string];
  const value = col.includes('(') ? col : `x.${col}`;
  return {
    expr: `(SELECT ${agg}(${value}) FROM sp_${tableOf(key.param)} x WHERE x.rid = ${alias}.rid AND ${rowsCondition(key.param.rowsOf ?? { params: [code] }, 'x', p)})`,
    cast,
  };
}
