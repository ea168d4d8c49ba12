import type { TypedValue } from '@medplum/core';
import type { IndexRow, Table } from '../../store/index-tables.js';
import type { SearchParam } from '../parameters.js';
import type { SqlParams } from '../sql-params.js';

/*
 * What every kind of search parameter is made of: its index table (its shape is the store's,
 * store/index-tables.ts), how a resource's values become rows of it, and how a criterion on it
 * becomes SQL. One file per kind beside this
 * one; kinds/index.ts is their table.
 */

/** Where a kind puts the index rows of a value. */
export interface Extraction {
  fhirBase: string;
  /** `{ grp }` of the element a composite's component value comes from; `{}` for a parameter's own. */
  group: { grp?: number };
  add<R extends IndexRow>(table: Table<R>, row: R): void;
}

/**
 * A criterion on one parameter, its values ORed; `codes` are what the values of a terminology
 * modifier (`:in`, `:not-in`, `:above`, `:below`, `:text`) stand for, found when the search runs
 * (a code without system matches in any system).
 */
export interface Criterion {
  param: SearchParam;
  modifier?: string;
  values: string[];
  codes?: { system?: string; code: string }[];
}

/** A criterion as SQL: a condition on the resource row, or the ids of the rows it matches, from the index alone. */
export type Match = { where: string } | { rids: string };

/** `SELECT x.rid FROM sp_<table> x [joins] WHERE <type and param match>`, to extend with conditions. */
export type Indexed = (table: string, x: string, param: string, joins?: string) => string;

/** What a criterion is compiled with: the parameters, our base URL, the resource row's alias and the index rows of a parameter. */
export interface Compiling {
  p: SqlParams;
  fhirBase: string;
  alias: string;
  indexed: Indexed;
}

/** A kind of search parameter: the condition `:missing` asks, and a criterion (its other modifiers) as SQL. */
export interface Kind {
  /** The condition on the resource row that it has a value of `param`. */
  exists(param: SearchParam, c: Compiling): string;
  match(f: Criterion, c: Compiling): Match;
}

/** A kind that is a SearchParameter type, with the modifiers its parameters take (any other is a 400). */
export interface TypeKind extends Kind {
  modifiers: readonly string[];
}

/** A kind whose values come from a resource's elements, into rows of its table: what a composite's components are. */
export interface ElementKind<R extends IndexRow> extends TypeKind {
  table: Table<R>;
  /**
   * Puts the rows of one value an expression gives under `code`; `param` is the parameter when the
   * value is its own (not a composite's component's).
   */
  extract(v: TypedValue, code: string, to: Extraction, param?: SearchParam): void;
  /** The condition of one value of criterion `f` (a component's: no modifier) on index rows `x`. */
  condition(value: string, x: string, f: Pick<Criterion, 'param' | 'modifier'>, c: Compiling): string;
  /** The value its rows `x` are sorted by, and the SQL type cursor values are cast to. */
  sort: { value: (x: string) => string; cast: string };
}

export const or = (parts: string[]) => (parts.length === 1 ? parts[0] : `(${parts.join(' OR ')})`);

/** The rows of `param` in `table` that meet `condition`, whose values, built first, are numbered before the rows' own. */
export const rowsWhere = (c: Compiling, table: string, param: string, condition: string): { rids: string } => ({
  rids: `${c.indexed(table, 'x', param)} AND ${condition}`,
});

/** The resources that have none of the rows of `set`. */
export const noneOf = (set: { rids: string }, c: Compiling): Match => ({ where: `NOT (${c.alias}.rid IN (${set.rids}))` });

/** The rows of the criterion's parameter that meet the condition of any of its values. */
export const anyValue = <R extends IndexRow>(kind: ElementKind<R>, f: Criterion, c: Compiling): Match =>
  rowsWhere(c, kind.table.name, f.param.code, or(f.values.map((v) => kind.condition(v, 'x', f, c))));

/** That the resource row has rows of `param` in `table`. */
export const hasRows = (table: string, param: string, c: Compiling) =>
  `EXISTS (SELECT 1 FROM sp_${table} x WHERE x.rid = ${c.alias}.rid AND x.param = ${c.p.add(param)})`;

export const likeEscape = (s: string) => s.replace(/[\\%_]/g, (ch) => `\\${ch}`);
