/*
 * The search index tables' shapes, `sp_<name> (rid, type, param, <columns>, grp)` (migrations 001
 * and 002): what the store writes (search-index.ts). Each kind of search parameter (search/kinds/)
 * fills and queries its table.
 */

/** A row of an index table: the parameter it holds a value of, and for a composite's component, its element (`grp`). */
export interface IndexRow {
  param: string;
  grp?: number;
}

/** One column of an index table, as rows are written to it. */
export interface Column<R> {
  name: string;
  /** Its SQL type: a statement binds the values of the column as one array of it. */
  type: 'text' | 'numeric' | 'timestamptz';
  value(row: R): unknown;
  /** What is written from the unnested value `u` (default: as is). */
  written?: (u: string) => string;
  /** Written whole: no btree holds it (a long value is otherwise cut to what a btree entry holds). */
  whole?: true;
}

export interface Table<R extends IndexRow> {
  name: string;
  columns: Column<R>[];
}

/** `value` is normalized (search/normalize.ts): what searches compare; `exact` as written, for `:exact`. */
export interface StringRow extends IndexRow {
  value: string;
  exact: string;
}

export const stringTable: Table<StringRow> = {
  name: 'string',
  columns: [
    { name: 'value', type: 'text', value: (r) => r.value },
    { name: 'exact', type: 'text', value: (r) => r.exact },
  ],
};

/** `text`: a display or CodeableConcept.text, normalized, for `:text`. */
export interface TokenRow extends IndexRow {
  system: string | null;
  code: string | null;
  text: string | null;
}

export const tokenTable: Table<TokenRow> = {
  name: 'token',
  columns: [
    { name: 'system', type: 'text', value: (r) => r.system },
    { name: 'code', type: 'text', value: (r) => r.code },
    { name: 'text', type: 'text', value: (r) => r.text },
  ],
};

/** The range of instants a value covers: ISO instants, or '-infinity' / 'infinity' for open ends. */
export interface DateRow extends IndexRow {
  low: string;
  high: string;
}

export const dateTable: Table<DateRow> = {
  name: 'date',
  columns: [
    { name: 'low', type: 'timestamptz', value: (r) => r.low },
    { name: 'high', type: 'timestamptz', value: (r) => r.high },
  ],
};

/** A decimal, as text: numeric in SQL, without the rounding of a double. */
export interface NumberRow extends IndexRow {
  value: string;
}

/** `low` and `high` are the value itself: the number conditions are over ranges, as a quantity's. */
export const numberTable: Table<NumberRow> = {
  name: 'number',
  columns: [
    { name: 'value', type: 'numeric', value: (r) => r.value },
    { name: 'low', type: 'numeric', value: (r) => r.value },
    { name: 'high', type: 'numeric', value: (r) => r.value },
  ],
};

/** A quantity's unit and value; `low` and `high` bound it ('-Infinity', 'Infinity' for a comparator's or a Range's open end). */
export interface QuantityRow extends IndexRow {
  system: string | null;
  code: string | null;
  unit: string | null;
  value: string;
  low: string;
  high: string;
}

export const quantityTable: Table<QuantityRow> = {
  name: 'quantity',
  columns: [
    { name: 'system', type: 'text', value: (r) => r.system },
    { name: 'code', type: 'text', value: (r) => r.code },
    { name: 'unit', type: 'text', value: (r) => r.unit },
    { name: 'value', type: 'numeric', value: (r) => r.value },
    { name: 'low', type: 'numeric', value: (r) => r.low },
    { name: 'high', type: 'numeric', value: (r) => r.high },
  ],
};

export interface UriRow extends IndexRow {
  value: string;
}

export const uriTable: Table<UriRow> = { name: 'uri', columns: [{ name: 'value', type: 'text', value: (r) => r.value }] };

/** A reference to one of our resources (`targetType`, `targetId`), or any other by its `url`. */
export interface ReferenceRow extends IndexRow {
  targetType: string | null;
  targetId: string | null;
  url: string | null;
}

export const referenceTable: Table<ReferenceRow> = {
  name: 'reference',
  columns: [
    { name: 'target_type', type: 'text', value: (r) => r.targetType },
    { name: 'target_id', type: 'text', value: (r) => r.targetId },
    { name: 'url', type: 'text', value: (r) => r.url },
  ],
};

/** Accent-free text, stored as a 'french' text search document. */
export interface TextRow extends IndexRow {
  value: string;
}

export const textTable: Table<TextRow> = {
  name: 'text',
  columns: [{ name: 'doc', type: 'text', value: (r) => r.value, written: (u) => `to_tsvector('french', ${u})`, whole: true }],
};

/** The rows one resource version contributes to the search index tables, by table. */
export interface IndexRows {
  string: StringRow[];
  token: TokenRow[];
  date: DateRow[];
  number: NumberRow[];
  quantity: QuantityRow[];
  uri: UriRow[];
  reference: ReferenceRow[];
  text: TextRow[];
}

/** The index tables, in the order a write's statement fills them. */
export const INDEX_TABLES: Table<IndexRow>[] = [stringTable, tokenTable, dateTable, numberTable, quantityTable, uriTable, referenceTable, textTable];

export const emptyIndexRows = (): IndexRows => ({ string: [], token: [], date: [], number: [], quantity: [], uri: [], reference: [], text: [] });
