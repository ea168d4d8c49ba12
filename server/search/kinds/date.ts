import type { TypedValue } from '@medplum/core';
import type { Period, Timing } from '@medplum/fhirtypes';
import { badRequest } from '../../fhir/outcome.js';
import { dateTable as table, type DateRow } from '../../store/index-tables.js';
import { dateRange } from '../dates.js';
import type { SqlParams } from '../sql-params.js';
import { anyValue, hasRows, type ElementKind } from './kind.js';
import { splitPrefix, type Prefix } from './prefix.js';

/** Date parameters: ranges compared by prefix. */
export const dateKind: ElementKind<DateRow> = {
  table,
  modifiers: ['missing'],
  extract(v, param, to) {
    for (const [low, high] of datesOf(v)) to.add(table, { param, low, high, ...to.group });
  },
  condition: (value, x, _f, c) => dateCondition(value, `${x}.low`, `${x}.high`, c.p),
  exists: (param, c) => hasRows(table.name, param.code, c),
  match: (f, c) => anyValue(dateKind, f, c),
  // The start: an open end would tie every ongoing period.
  sort: { value: (x) => `${x}.low`, cast: 'timestamptz' },
};

function datesOf(v: TypedValue): [string, string][] {
  const iso = (s: string | undefined, end: 'low' | 'high'): string | undefined => {
    if (!s) return undefined;
    const r = dateRange(s);
    return r?.[end].toISOString();
  };
  switch (v.type) {
    case 'Period': {
      const p = v.value as Period;
      const low = iso(p.start, 'low') ?? '-infinity';
      const high = iso(p.end, 'high') ?? 'infinity';
      return p.start || p.end ? [[low, high]] : [];
    }
    case 'Timing': {
      const t = v.value as Timing;
      const events = (t.event ?? []).map((e) => dateRange(e)).filter((r) => !!r);
      if (events.length) {
        const low = Math.min(...events.map((r) => r.low.getTime()));
        const high = Math.max(...events.map((r) => r.high.getTime()));
        return [[new Date(low).toISOString(), new Date(high).toISOString()]];
      }
      const bounds = t.repeat?.boundsPeriod;
      return bounds ? datesOf({ type: 'Period', value: bounds }) : [];
    }
    default: {
      if (typeof v.value !== 'string') return [];
      const r = dateRange(v.value);
      return r ? [[r.low.toISOString(), r.high.toISOString()]] : [];
    }
  }
}

/** Date prefixes over ranges [`low`, `high`] (SQL), as FHIR R4 search.html#prefix defines them. */
export function dateCondition(value: string, low: string, high: string, p: SqlParams): string {
  const [prefix, written] = splitPrefix(value);
  // A `+` of an offset sent unencoded in a query string (as the SAS platform does) reads as a space.
  const raw = written.replace(/ (\d{2}:\d{2})$/, '+$1');
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
