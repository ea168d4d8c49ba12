import type { FhirPathAtom, TypedValue } from '@medplum/core';
import { badRequest } from '../../fhir/outcome.js';
import type { SearchParam } from '../parameters.js';
import { splitEscaped } from '../values.js';
import { elementKind } from './elements.js';
import { hasRows, or, type Compiling, type Extraction, type TypeKind } from './kind.js';

/** The index parameter name of the i-th component of a composite parameter. */
export const componentParam = (code: string, i: number) => `${code}$${i}`;

/**
 * Composite parameters: values `a$b`, matched by rows of each component from the same element
 * (same `grp`), so that `code-value-quantity=loinc|8480-6$gt140` matches the systolic value, not
 * any value. Their rows are their components', in their components' tables.
 */
export const compositeKind: TypeKind & { extract: typeof extractComposite } = {
  modifiers: [],
  extract: extractComposite,
  exists(param, c) {
    const first = param.components?.[0]?.param;
    return hasRows(componentKind(param, first).table.name, componentParam(param.code, 0), c);
  },
  match(f, c) {
    const sets = f.values.map((v) => valueSql(f.param, v, c));
    return sets.length === 1 ? { rids: sets[0] } : { where: or(sets.map((set) => `${c.alias}.rid IN (${set})`)) };
  },
};

/**
 * Puts the rows of a composite's `elements`, one group per element: its components are matched
 * together, as a tuple. `evaluate` gives a component's values on an element (memoized under `key`:
 * composites share expressions); `group` numbers the elements of the resource.
 */
function extractComposite(
  param: SearchParam,
  elements: TypedValue[],
  to: Extraction,
  evaluate: (key: string, atom: FhirPathAtom, on: TypedValue[]) => TypedValue[],
  group: () => number,
): void {
  elements.forEach((element, e) => {
    const grouped = { ...to, group: { grp: group() } };
    param.components?.forEach((c, i) => {
      const kind = elementKind(c.param.type);
      for (const v of evaluate(`${param.expression}[${e}].${c.expression}`, c.atom, [element])) kind?.extract(v, componentParam(param.code, i), grouped);
    });
  });
}

/** The kind of a composite's component: an element kind (a component is no composite). */
function componentKind(param: SearchParam, component: SearchParam | undefined) {
  const kind = elementKind(component?.type);
  if (!kind) throw badRequest(`Search parameters of type ${component?.type ?? param.type} are not supported here`);
  return kind;
}

/** The rows (ids) matching one value of a composite: its first component's, joined to the others' of the same element. */
function valueSql(param: SearchParam, value: string, c: Compiling): string {
  const components = param.components ?? [];
  const parts = splitEscaped(value, '$');
  if (parts.length !== components.length) throw badRequest(`${param.code} takes ${components.length} values separated by $: ${value}`);
  const [first, ...rest] = components.map((comp, i) => {
    const kind = componentKind(param, comp.param);
    const x = `c${i}`;
    return { table: kind.table.name, x, param: componentParam(param.code, i), cond: kind.condition(parts[i], x, { param: comp.param }, c) };
  });
  const joins = rest.map(
    // the type, implied by the rid, is stated so that each component can use its (type, param, …) index
    (r) =>
      ` JOIN sp_${r.table} ${r.x} ON ${r.x}.rid = ${first.x}.rid AND ${r.x}.grp = ${first.x}.grp AND ${r.x}.type = ${first.x}.type` +
      ` AND ${r.x}.param = ${c.p.add(r.param)} AND ${r.cond}`,
  );
  return `${c.indexed(first.table, first.x, first.param, joins.join(''))} AND ${first.cond}`;
}
