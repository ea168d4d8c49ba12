import type { TypedValue } from '@medplum/core';
import type { Money, Quantity, Range } from '@medplum/fhirtypes';
import { quantityTable as table, type QuantityRow } from '../../store/index-tables.js';
import type { SqlParams } from '../sql-params.js';
import { splitEscaped, unescape } from '../values.js';
import { anyValue, hasRows, type ElementKind } from './kind.js';
import { numberCondition } from './number.js';

const QUANTITY_TYPES = new Set(['Quantity', 'Age', 'Duration', 'Distance', 'Count', 'SimpleQuantity', 'MoneyQuantity']);

/** Quantity parameters: `[prefix]number|system|code`, the number compared as a number parameter's. */
export const quantityKind: ElementKind<QuantityRow> = {
  table,
  modifiers: ['missing'],
  extract(v, param, to) {
    const q = quantityOf(v);
    if (q) to.add(table, { param, ...q, ...to.group });
  },
  condition: (value, x, _f, c) => quantityCondition(value, x, c.p),
  exists: (param, c) => hasRows(table.name, param.code, c),
  match: (f, c) => anyValue(quantityKind, f, c),
  sort: { value: (x) => `${x}.value`, cast: 'numeric' },
};

function quantityOf(v: TypedValue): Omit<QuantityRow, 'param'> | undefined {
  if (QUANTITY_TYPES.has(v.type)) {
    const q = v.value as Quantity;
    if (typeof q.value !== 'number') return undefined;
    const value = String(q.value);
    const low = q.comparator === '<' || q.comparator === '<=' ? '-Infinity' : value;
    const high = q.comparator === '>' || q.comparator === '>=' ? 'Infinity' : value;
    return { system: q.system ?? null, code: q.code ?? null, unit: q.unit ?? null, value, low, high };
  }
  if (v.type === 'Money') {
    const m = v.value as Money;
    if (typeof m.value !== 'number') return undefined;
    const value = String(m.value);
    return { system: 'urn:iso:std:iso:4217', code: m.currency ?? null, unit: m.currency ?? null, value, low: value, high: value };
  }
  if (v.type === 'Range') {
    const r = v.value as Range;
    const low = r.low?.value;
    const high = r.high?.value;
    if (typeof low !== 'number' && typeof high !== 'number') return undefined;
    const q = r.low ?? r.high;
    return {
      system: q?.system ?? null,
      code: q?.code ?? null,
      unit: q?.unit ?? null,
      value: String(low ?? high),
      low: typeof low === 'number' ? String(low) : '-Infinity',
      high: typeof high === 'number' ? String(high) : 'Infinity',
    };
  }
  return undefined;
}

/** `[prefix]number|system|code`; with no system, the code matches the unit too. */
function quantityCondition(value: string, x: string, p: SqlParams): string {
  const [num, system, code] = splitEscaped(value, '|').map(unescape);
  const conds = [numberCondition(num, `${x}.low`, `${x}.high`, p)];
  if (system) conds.push(`${x}.system = ${p.add(system)}`);
  if (code) conds.push(system ? `${x}.code = ${p.add(code)}` : `(${x}.code = ${p.add(code)} OR ${x}.unit = ${p.add(code)})`);
  return `(${conds.join(' AND ')})`;
}
