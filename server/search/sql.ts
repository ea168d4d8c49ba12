import { parseLocalReference } from '../fhir/ids.js';
import { criterionSql, indexedRows, sortKind } from './kinds/index.js';
import type { Match } from './kinds/kind.js';
import { referenceRowsSql, rowsCondition } from './kinds/reference.js';
import type { Filter, SortKey } from './parse.js';
import { SqlParams, typeIs } from './sql-params.js';
import { accessSql, type AccessCheck, type Visibility } from '../access/visibility.js';

/** What compiling needs beside the filters: the parameters, our base URL, whom for and how, and alias depth. */
export interface Compiler {
  p: SqlParams;
  fhirBase: string;
  visibility: Visibility | null;
  check: AccessCheck;
  depth: number;
}

export const compiler = (fhirBase: string, visibility: Visibility | null, check: AccessCheck = 'probe'): Compiler => ({
  p: new SqlParams(),
  fhirBase,
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
export function namedPatient(types: string[], filters: Filter[], fhirBase: string): string | undefined {
  if (types.length !== 1) return undefined;
  for (const f of filters) {
    if (f.kind === 'compartment' && f.target.type === 'Patient') return f.target.id;
    if (f.kind === 'param' && !f.modifier && f.param.type === 'reference' && f.values.length === 1) {
      // Read as the reference condition reads it (referenceCondition): our base, any version.
      const ref = parseLocalReference(f.values[0], fhirBase);
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
  if (driver >= 0)
    return `SELECT DISTINCT m.rid FROM (${first}) m${rest.map((r, i) => ` JOIN LATERAL (SELECT 1 FROM (${r}) f WHERE f.rid = m.rid LIMIT 1) f${i} ON true`).join('')}`;
  // Else the first set drives; the planner may turn the others round (they are semi-joins).
  return `SELECT DISTINCT m.rid FROM (${first}) m${rest.length ? ` WHERE ${rest.map((r) => `m.rid IN (${r})`).join(' AND ')}` : ''}`;
}

/** Whether a filter names its resources (`_id`), their patient (one `Patient/[id]`) or compartment: few rows, whatever the data. */
export function namesFew(f: Filter): boolean {
  if (f.kind === 'compartment') return true;
  if (f.kind !== 'param' || f.modifier) return false;
  return f.param.code === '_id' || (f.param.type === 'reference' && f.values.every((v) => /^Patient\/[^,]+$/.test(v)));
}

const asCondition = (f: Match, alias: string) => ('rids' in f ? `${alias}.rid IN (${f.rids})` : f.where);

function filterSql(c: Compiler, f: Filter, types: string[], alias: string): Match {
  const { p } = c;
  const indexed = indexedRows(types, p);
  switch (f.kind) {
    case 'param':
      return criterionSql(f, { p, fhirBase: c.fhirBase, alias, indexed });
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
        rids: `SELECT x.rid FROM sp_reference x WHERE ${types.length ? `${typeIs('x.type', types, p)} AND ` : ''}x.param = ANY(${p.add(
          f.params,
        )}::text[]) AND x.target_type = ${p.add(f.target.type)} AND x.target_id = ${p.add(f.target.id)}`,
      };
  }
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

/** A sort key's value for a resource row, and the SQL type its cursor values are cast to. */
export function sortKeySql(key: SortKey, alias: string, p: SqlParams): { expr: string; cast: string } {
  const { code } = key.param;
  if (code === '_id') return { expr: `${alias}.id`, cast: 'text' };
  if (code === '_lastUpdated') return { expr: `${alias}.last_updated`, cast: 'timestamptz' };
  const agg = key.desc ? 'max' : 'min';
  const { table, sort } = sortKind(key.param);
  return {
    expr: `(SELECT ${agg}(${sort.value('x')}) FROM sp_${table.name} x WHERE x.rid = ${alias}.rid AND ${rowsCondition(key.param.rowsOf ?? { params: [code] }, 'x', p)})`,
    cast: sort.cast,
  };
}
