import type { TypedValue } from '@medplum/core';
import type { Address, HumanName } from '@medplum/fhirtypes';
import { stringTable as table, type StringRow } from '../../store/index-tables.js';
import { normalizeString } from '../normalize.js';
import type { SqlParams } from '../sql-params.js';
import { unescape } from '../values.js';
import { anyValue, hasRows, likeEscape, type ElementKind } from './kind.js';

const STRING_TYPES = new Set(['string', 'markdown', 'code', 'id', 'uri', 'url', 'canonical', 'oid', 'uuid']);

/** String parameters: prefix, case- and accent-insensitive by default, `:exact`, `:contains`. */
export const stringKind: ElementKind<StringRow> = {
  table,
  modifiers: ['exact', 'contains', 'missing'],
  extract(v, param, to) {
    for (const s of stringsOf(v)) to.add(table, { param, value: normalizeString(s), exact: s, ...to.group });
  },
  condition: (value, x, f, c) => stringCondition(unescape(value), f.modifier, x, c.p),
  exists: (param, c) => hasRows(table.name, param.code, c),
  match: (f, c) => anyValue(stringKind, f, c),
  sort: { value: (x) => `${x}.value`, cast: 'text' },
};

function stringsOf(v: TypedValue): string[] {
  if (typeof v.value === 'string') return STRING_TYPES.has(v.type) || v.type === 'xhtml' ? [v.value] : [];
  if (v.type === 'HumanName') {
    const n = v.value as HumanName;
    const parts = [...(n.prefix ?? []), ...(n.given ?? []), n.family, ...(n.suffix ?? [])].filter(Boolean) as string[];
    return unique([...parts, n.text, [...(n.given ?? []), n.family].filter(Boolean).join(' ')]);
  }
  if (v.type === 'Address') {
    const a = v.value as Address;
    return unique([...(a.line ?? []), a.city, a.district, a.state, a.postalCode, a.country, a.text]);
  }
  return [];
}

function unique(values: (string | undefined)[]): string[] {
  return [...new Set(values.filter((s): s is string => !!s && s.trim() !== ''))];
}

function stringCondition(value: string, modifier: string | undefined, x: string, p: SqlParams): string {
  if (modifier === 'exact') return `${x}.exact = ${p.add(value)}`;
  const norm = normalizeString(value);
  if (modifier === 'contains') return `${x}.value LIKE ${p.add(`%${likeEscape(norm)}%`)}`;
  // A prefix as a range in the byte order of the index (text_pattern_ops): the generic plan of a
  // prepared search then uses the index, where with `LIKE $n` it read every value of the parameter.
  const next = successor(norm);
  return next === undefined ? `${x}.value LIKE ${p.add(`${likeEscape(norm)}%`)}` : `(${x}.value ~>=~ ${p.add(norm)} AND ${x}.value ~<~ ${p.add(next)})`;
}

/** The least text above every text that starts with `prefix`: its last character's successor (none for '' or U+10FFFF). */
function successor(prefix: string): string | undefined {
  const chars = [...prefix];
  const last = chars.pop()?.codePointAt(0);
  if (last === undefined || last === 0x10ffff) return undefined;
  return chars.join('') + String.fromCodePoint(last === 0xd7ff ? 0xe000 : last + 1);
}
