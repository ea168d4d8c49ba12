import { badRequest } from '../../fhir/outcome.js';
import { referenceTable, type IndexRow } from '../../store/index-tables.js';
import { FULL_TEXT_PARAMS, type SearchParam } from '../parameters.js';
import { SqlParams, typeIs } from '../sql-params.js';
import { unescape } from '../values.js';
import { compositeKind } from './composite.js';
import { dateCondition } from './date.js';
import { ELEMENT_KINDS, elementKind } from './elements.js';
import { or, type Compiling, type Criterion, type ElementKind, type Indexed, type Kind, type Match, type TypeKind } from './kind.js';
import { referenceRowsSql } from './reference.js';
import { textKind } from './text.js';

/** The kinds of search parameters by SearchParameter type (the full-text ones are told by their code). */
const KINDS: Readonly<Record<string, TypeKind>> = { ...ELEMENT_KINDS, composite: compositeKind };

const byType = (type: SearchParam['type']): TypeKind | undefined => (Object.hasOwn(KINDS, type as string) ? KINDS[type as string] : undefined);

/** The modifiers the parameters of a type take; undefined for a type this engine does not search. */
export const modifiersOf = (type: SearchParam['type']): readonly string[] | undefined => byType(type)?.modifiers;

/** The kind a parameter's values are indexed and searched as. */
export function kindOf(param: SearchParam): Kind {
  const kind = FULL_TEXT_PARAMS.has(param.code) ? textKind : byType(param.type);
  if (!kind) throw badRequest(`Search parameter ${param.code} (${param.type}) is not supported`);
  return kind;
}

/** The kind a parameter is sorted as: an element kind (parse.ts refuses to sort on composite and full-text ones). */
export function sortKind(param: SearchParam): ElementKind<IndexRow> {
  const kind = FULL_TEXT_PARAMS.has(param.code) ? undefined : elementKind(param.type);
  if (!kind) throw badRequest(`cannot sort on ${param.type} parameter ${param.code}`);
  return kind;
}

/**
 * The index rows of a parameter on resources of `types` (any, when empty): a reference's are
 * found where referenceRows says. Index rows only exist for live resources, so subqueries on them
 * need no visibility check.
 */
export const indexedRows =
  (types: string[], p: SqlParams): Indexed =>
  (table, x, param, joins = '') =>
    `SELECT ${x}.rid FROM sp_${table} ${x}${joins} WHERE ${table === referenceTable.name ? referenceRowsSql(types, param, x, p) : `${types.length ? `${typeIs(`${x}.type`, types, p)} AND ` : ''}${x}.param = ${p.add(param)}`}`;

/**
 * A criterion as SQL: `:missing` (whether the kind has a value of the parameter), `_id` and
 * `_lastUpdated` on the resource row's columns, any other by its kind.
 */
export function criterionSql(f: Criterion, c: Compiling): Match {
  const { p, alias } = c;
  const code = f.param.code;
  const values = f.values;
  if (f.modifier === 'missing') {
    if (values.length !== 1 || (values[0] !== 'true' && values[0] !== 'false')) throw badRequest(`:missing takes true or false`);
    // Every resource has an id and a lastUpdated: :missing=true matches none, :missing=false all.
    if (code === '_id' || code === '_lastUpdated') return { where: values[0] === 'true' ? 'false' : 'true' };
    const exists = kindOf(f.param).exists(f.param, c);
    return { where: values[0] === 'true' ? `NOT ${exists}` : exists };
  }
  if (code === '_id') {
    const ids = `${alias}.id = ANY(${p.add(values.map(unescape))}::text[])`;
    return { where: f.modifier === 'not' ? `NOT (${ids})` : ids };
  }
  if (code === '_lastUpdated') {
    return { where: or(values.map((v) => dateCondition(v, `${alias}.last_updated`, `${alias}.last_updated`, p))) };
  }
  return kindOf(f.param).match(f, c);
}

/** Compiles a criterion once to report a malformed value as a 400 when the request is parsed. */
export function checkFilter(f: Criterion): void {
  const p = new SqlParams();
  criterionSql(f, { p, fhirBase: '', alias: 'r', indexed: indexedRows([], p) });
}
