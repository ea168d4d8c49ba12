import { badRequest } from '../../fhir/outcome.js';
import { numberTable as table, type NumberRow } from '../../store/index-tables.js';
import type { SqlParams } from '../sql-params.js';
import { unescape } from '../values.js';
import { anyValue, hasRows, type ElementKind } from './kind.js';
import { splitPrefix, type Prefix } from './prefix.js';

/** Number parameters: decimals compared by prefix, a value standing for the range of its precision. */
export const numberKind: ElementKind<NumberRow> = {
  table,
  modifiers: ['missing'],
  extract(v, param, to) {
    if (typeof v.value === 'number') to.add(table, { param, value: String(v.value), ...to.group });
  },
  condition: (value, x, _f, c) => numberCondition(unescape(value), `${x}.low`, `${x}.high`, c.p),
  exists: (param, c) => hasRows(table.name, param.code, c),
  match: (f, c) => anyValue(numberKind, f, c),
  sort: { value: (x) => `${x}.value`, cast: 'numeric' },
};

/** The implicit range of a decimal search value: 100 means [99.5, 100.5), 1.50 means [1.495, 1.505). */
function numberRange(raw: string): { value: number; low: number; high: number } {
  if (!/^[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?$/.test(raw)) throw badRequest(`Invalid number search value: ${raw}`);
  const value = Number(raw);
  const [mantissa, exp] = raw.toLowerCase().split('e');
  const decimals = mantissa.includes('.') ? mantissa.split('.')[1].length : 0;
  const half = 0.5 * 10 ** (-decimals + Number(exp ?? 0));
  return { value, low: value - half, high: value + half };
}

/** Number prefixes, over stored values that may be ranges [`low`, `high`] (a Range, a `<5` quantity). */
export function numberCondition(value: string, low: string, high: string, p: SqlParams): string {
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
