import type { TypedValue } from '@medplum/core';
import type { CodeableConcept, Coding, ContactPoint, Identifier } from '@medplum/fhirtypes';
import { badRequest } from '../../fhir/outcome.js';
import { tokenTable as table, type TokenRow } from '../../store/index-tables.js';
import { normalizeString } from '../normalize.js';
import type { SqlParams } from '../sql-params.js';
import { splitBar, splitEscaped, unescape } from '../values.js';
import { anyValue, hasRows, noneOf, or, rowsWhere, type Criterion, type ElementKind } from './kind.js';

/**
 * Token parameters: `[system]|code`, `:not`, `:of-type` (an identifier's type and value, in rows
 * of their own), `:text`, and the terminology's `:in`, `:not-in`, `:above`, `:below`.
 */
export const tokenKind: ElementKind<TokenRow> = {
  table,
  modifiers: ['missing', 'not', 'text', 'of-type', 'in', 'not-in', 'above', 'below'],
  extract(v, code, to, param) {
    for (const row of tokensOf(code, v, param?.impliedSystem)) to.add(table, { ...row, ...to.group });
  },
  condition: (value, x, _f, c) => tokenCondition(value, x, c.p),
  exists: (param, c) => hasRows(table.name, param.code, c),
  match(f, c) {
    const { p } = c;
    const code = f.param.code;
    const values = f.values;
    if (f.modifier === 'not') return noneOf(rowsWhere(c, table.name, code, or(values.map((v) => tokenCondition(v, 'x', p)))), c);
    if (f.modifier === 'of-type') return rowsWhere(c, table.name, `${code}:of-type`, or(values.map((v) => ofTypeCondition(v, p))));
    // The token's own text, or a code whose display in the terminology has those words.
    if (f.modifier === 'text')
      return rowsWhere(c, table.name, code, or([...values.map((v) => textCondition(unescape(v), 'x', p)), codesCondition(f.codes, 'x', p, true)]));
    if (f.modifier === 'not-in') return noneOf(rowsWhere(c, table.name, code, codesCondition(f.codes, 'x', p)), c);
    if (f.modifier === 'in' || f.modifier === 'above' || f.modifier === 'below') return rowsWhere(c, table.name, code, codesCondition(f.codes, 'x', p));
    return anyValue(tokenKind, f, c);
  },
  sort: { value: (x) => `${x}.code`, cast: 'text' },
};

/** The rows of a token value: a Coding, CodeableConcept, Identifier (and its `:of-type` rows), ContactPoint, boolean, integer, code or string. */
function tokensOf(param: string, v: TypedValue, impliedSystem?: string): TokenRow[] {
  const row = (system?: string, code?: string, text?: string) => ({
    param,
    system: system ?? null,
    code: code ?? null,
    text: text ? normalizeString(text) : null,
  });
  switch (v.type) {
    case 'Coding': {
      const c = v.value as Coding;
      return [row(c.system, c.code, c.display)];
    }
    case 'CodeableConcept': {
      const cc = v.value as CodeableConcept;
      const rows = (cc.coding ?? []).map((c) => row(c.system, c.code, c.display ?? cc.text));
      return rows.length ? rows : [row(undefined, undefined, cc.text)];
    }
    case 'Identifier': {
      const id = v.value as Identifier;
      const rows = [row(id.system, id.value, id.type?.text)];
      // :of-type matches type coding + value; kept under a derived parameter name.
      for (const t of id.type?.coding ?? []) {
        if (t.code && id.value) rows.push({ ...row(t.system, `${t.code}|${id.value}`), param: `${param}:of-type` });
      }
      return rows;
    }
    case 'ContactPoint': {
      const cp = v.value as ContactPoint;
      return [row(cp.system, cp.value)];
    }
    case 'boolean':
      return [row(undefined, String(v.value))];
    // A token on an integer (GAP's Appointment `priority`): its decimal text.
    case 'integer':
    case 'unsignedInt':
    case 'positiveInt':
      return typeof v.value === 'number' ? [row(undefined, String(v.value))] : [];
    case 'code':
      return typeof v.value === 'string' ? [row(impliedSystem, v.value)] : [];
    default:
      return typeof v.value === 'string' ? [row(undefined, v.value)] : [];
  }
}

/** `[system]|code`: a code in that system, `|code` in none, `system|` any code of it, `code` in any. */
export function tokenCondition(value: string, x: string, p: SqlParams): string {
  const [system, code] = splitBar(value);
  if (system === undefined) return `${x}.code = ${p.add(code)}`;
  if (system === '') return `(${x}.code = ${p.add(code)} AND ${x}.system IS NULL)`;
  if (code === '') return `${x}.system = ${p.add(system)}`;
  return `(${x}.code = ${p.add(code)} AND ${x}.system = ${p.add(system)})`;
}

/** `:text`: every word of the value begins a word of the token's text (display or CodeableConcept.text). */
function textCondition(value: string, x: string, p: SqlParams): string {
  // Words are letters and digits only, so they need no escaping in the pattern.
  const words = normalizeString(value)
    .split(/[^\p{L}\p{N}]+/u)
    .filter(Boolean);
  if (!words.length) return `${x}.text IS NOT NULL`;
  return words.map((w) => `${x}.text ~ ${p.add(`(^|[^[:alnum:]])${w}`)}`).join(' AND ');
}

/**
 * The codes a terminology modifier stands for (see terminology.ts): a token matches one in its
 * system, or by code alone when either has no system (unless `sameSystem`). Not yet resolved
 * (when a request is parsed): none.
 */
function codesCondition(codes: Criterion['codes'], x: string, p: SqlParams, sameSystem = false): string {
  const withSystem = (codes ?? []).filter((c) => c.system !== undefined);
  const bare = (codes ?? []).filter((c) => c.system === undefined).map((c) => c.code);
  const parts: string[] = [];
  if (withSystem.length) {
    const pairs = `SELECT * FROM unnest(${p.add(withSystem.map((c) => c.system))}::text[], ${p.add(withSystem.map((c) => c.code))}::text[])`;
    // The code alone first: it is what the token index is ordered by.
    const system = sameSystem ? '' : `${x}.system IS NULL OR `;
    parts.push(`(${x}.code = ANY(${p.add([...new Set(withSystem.map((c) => c.code))])}::text[]) AND (${system}(${x}.system, ${x}.code) IN (${pairs})))`);
  }
  if (bare.length) parts.push(`${x}.code = ANY(${p.add(bare)}::text[])`);
  return parts.length ? or(parts) : 'false';
}

/** `:of-type`: `system|code|value`, an identifier's type and value, as its `:of-type` rows hold them. */
function ofTypeCondition(value: string, p: SqlParams): string {
  const parts = splitEscaped(value, '|');
  if (parts.length !== 3) throw badRequest(`:of-type takes system|code|value: ${value}`);
  const [system, code, id] = parts.map(unescape);
  return `(x.system = ${p.add(system)} AND x.code = ${p.add(`${code}|${id}`)})`;
}
