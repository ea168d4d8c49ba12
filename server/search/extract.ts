import { evalFhirPathTyped, toTypedValue, type FhirPathAtom, type TypedValue } from '@medplum/core';
import type { Resource } from '@medplum/fhirtypes';
import { emptyIndexRows, type IndexRow, type IndexRows } from '../store/index-tables.js';
import { compositeKind } from './kinds/composite.js';
import { elementKind } from './kinds/elements.js';
import type { Extraction } from './kinds/kind.js';
import { textKind } from './kinds/text.js';
import { RESOURCE_COLUMN_PARAMS, searchParamsOf } from './parameters.js';
import type { SimplePath } from './simple-path.js';

/**
 * Evaluates every SearchParameter of the resource's type on it and returns the index rows, each
 * value made rows by its parameter's kind (kinds/). References to our own base URL are indexed
 * as local references.
 */
export function extractIndex(resource: Resource, fhirBase: string): IndexRows {
  const rows = emptyIndexRows();
  const to: Extraction = { fhirBase, group: {}, add: (table, row) => (rows[table.name as keyof IndexRows] as IndexRow[]).push(row) };
  const input = [toTypedValue(resource)];
  let grp = 0;
  // Composites share expressions (Observation has eight over `Observation` and `code`): each is
  // evaluated once per resource.
  const memo = new Map<string, TypedValue[]>();
  const once = (key: string, atom: FhirPathAtom, on: TypedValue[], path?: SimplePath) => {
    let values = memo.get(key);
    if (!values) memo.set(key, (values = path ? path(on[0]) : evaluate(atom, on)));
    return values;
  };
  const params = searchParamsOf(resource.resourceType);
  for (const sp of params.values()) {
    if (!sp.atom || !sp.expression || RESOURCE_COLUMN_PARAMS.has(sp.code)) continue;
    const values = once(sp.expression, sp.atom, input, sp.path);
    if (sp.type === 'composite') {
      compositeKind.extract(sp, values, to, once, () => ++grp);
      continue;
    }
    const kind = elementKind(sp.type); // none for special parameters (Location near): not indexed
    for (const v of values) kind?.extract(v, sp.code, to, sp);
  }
  if (params.has('_content')) textKind.extract(resource, to);
  return withoutRepeats(rows);
}

/** Drops repeated rows, in place (the rows were just built): a row twice matches nothing more (an AuditEvent names many entities of one type). */
function withoutRepeats(rows: IndexRows): IndexRows {
  const tables = rows as unknown as Record<string, Record<string, unknown>[]>;
  for (const table of Object.keys(tables)) {
    if (tables[table].length < 2) continue;
    const seen = new Set<string>();
    tables[table] = tables[table].filter((row) => {
      // Rows of a table have their fields in one order; null is told apart from any text.
      let key = '';
      for (const field in row) key += row[field] === null ? '\u0001\u0000' : `${row[field] as string}\u0000`;
      return !seen.has(key) && !!seen.add(key);
    });
  }
  return rows;
}

function evaluate(atom: FhirPathAtom, input: TypedValue[]): TypedValue[] {
  try {
    return evalFhirPathTyped(atom, input);
  } catch {
    return []; // an expression that does not apply to this instance's shape indexes nothing
  }
}
