import { uriTable as table, type UriRow } from '../../store/index-tables.js';
import type { SqlParams } from '../sql-params.js';
import { unescape } from '../values.js';
import { anyValue, hasRows, likeEscape, type ElementKind } from './kind.js';

/** URI parameters: equal, or `:below` (starts with the value) and `:above` (the value starts with it). */
export const uriKind: ElementKind<UriRow> = {
  table,
  modifiers: ['missing', 'below', 'above'],
  extract(v, param, to) {
    if (typeof v.value === 'string') to.add(table, { param, value: v.value, ...to.group });
  },
  condition: (value, x, f, c) => uriCondition(unescape(value), f.modifier, x, c.p),
  exists: (param, c) => hasRows(table.name, param.code, c),
  match: (f, c) => anyValue(uriKind, f, c),
  sort: { value: (x) => `${x}.value`, cast: 'text' },
};

function uriCondition(value: string, modifier: string | undefined, x: string, p: SqlParams): string {
  if (modifier === 'below') return `${x}.value LIKE ${p.add(`${likeEscape(value)}%`)}`;
  if (modifier === 'above') {
    return `${p.add(value)} LIKE replace(replace(replace(${x}.value, '\\', '\\\\'), '%', '\\%'), '_', '\\_') || '%'`;
  }
  return `${x}.value = ${p.add(value)}`;
}
