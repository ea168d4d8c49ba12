import type { TypedValue } from '@medplum/core';
import type { Reference } from '@medplum/fhirtypes';
import { parseLocalReference } from '../../fhir/ids.js';
import { badRequest } from '../../fhir/outcome.js';
import { referenceTable as table, type ReferenceRow } from '../../store/index-tables.js';
import { referenceRows } from '../parameters.js';
import { typeIs, type SqlParams } from '../sql-params.js';
import { unescape } from '../values.js';
import { anyValue, or, type Compiling, type ElementKind, type Extraction } from './kind.js';
import { tokenCondition, tokenKind } from './token.js';

/**
 * Reference parameters: `Type/id`, our absolute URL, a bare id (narrowed by a `:[type]` modifier),
 * another URL; `:identifier`, the reference's identifier, kept as a token. A parameter derived
 * from others (`rowsOf`, parameters.ts) has no rows of its own: its values are theirs.
 */
export const referenceKind: ElementKind<ReferenceRow> = {
  table,
  modifiers: ['missing', 'identifier'],
  extract(v, code, to, param) {
    // Its references are in the rows of the parameters it derives from; only identifiers are its own.
    if (!param?.rowsOf) addReference(v, code, to);
    addIdentifier(v, code, to);
  },
  condition: (value, x, f, c) => referenceCondition(unescape(value), f.param.target, f.modifier, x, c),
  exists: (param, c) => `EXISTS (${c.indexed(table.name, 'x', param.code)} AND x.rid = ${c.alias}.rid)`,
  match(f, c) {
    if (f.modifier === 'identifier') {
      const rows = c.indexed(tokenKind.table.name, 'x', `${f.param.code}:identifier`);
      return { rids: `${rows} AND ${or(f.values.map((v) => tokenCondition(v, 'x', c.p)))}` };
    }
    return anyValue(referenceKind, f, c);
  },
  sort: { value: (x) => `coalesce(${x}.target_type || '/' || ${x}.target_id, ${x}.url)`, cast: 'text' },
};

/**
 * The rows of a reference (not a contained one), its local target read against our base URL; a
 * canonical or uri by URL, with and without a |version suffix; as a composite's component (DocumentReference's
 * `relationship`), in the group of its element.
 */
function addReference(v: TypedValue, param: string, to: Extraction): void {
  if (v.type === 'Reference') {
    const ref = v.value as Reference;
    if (ref.reference && !ref.reference.startsWith('#')) {
      const local = parseLocalReference(ref.reference, to.fhirBase);
      to.add(table, { param, targetType: local?.type ?? null, targetId: local?.id ?? null, url: local ? null : ref.reference, ...to.group });
    }
    return;
  }
  if (typeof v.value === 'string') {
    to.add(table, { param, targetType: null, targetId: null, url: v.value, ...to.group });
    const bar = v.value.indexOf('|');
    if (bar > 0) to.add(table, { param, targetType: null, targetId: null, url: v.value.slice(0, bar), ...to.group });
  }
}

/** A reference's identifier, for `:identifier`: a token row under a derived parameter name. */
function addIdentifier(v: TypedValue, param: string, to: Extraction): void {
  const identifier = v.type === 'Reference' ? (v.value as Reference).identifier : undefined;
  if (identifier?.value) to.add(tokenKind.table, { param: `${param}:identifier`, system: identifier.system ?? null, code: identifier.value, text: null });
}

/** `Type/id`, our absolute URL, a bare id (any target type, or the `:[type]` modifier's), or another URL. */
function referenceCondition(value: string, targets: string[], modifier: string | undefined, x: string, c: Compiling): string {
  const { p } = c;
  const local = parseLocalReference(value, c.fhirBase);
  if (local) {
    if (modifier && modifier !== local.type) throw badRequest(`${value} is not a ${modifier} reference`);
    return `(${x}.target_type = ${p.add(local.type)} AND ${x}.target_id = ${p.add(local.id)})`;
  }
  if (/^[A-Za-z0-9\-.]{1,64}$/.test(value)) {
    const types = modifier ? [modifier] : targets;
    const id = `${x}.target_id = ${p.add(value)}`;
    return types.length ? `(${id} AND ${typeIs(`${x}.target_type`, types, p)})` : id;
  }
  return `${x}.url = ${p.add(value)}`;
}

/**
 * The condition on reference rows `x` of one of `types` that they hold the values of `code`: its
 * own rows, or those of the parameters it derives from that point at its target type (referenceRows).
 */
export function referenceRowsSql(types: string[], code: string, x: string, p: SqlParams): string {
  if (!types.length) return `${x}.param = ${p.add(code)}`;
  const groups = new Map<string, { rows: ReturnType<typeof referenceRows>; types: string[] }>();
  for (const type of types) {
    const rows = referenceRows(type, code);
    const key = JSON.stringify(rows);
    groups.set(key, { rows, types: [...(groups.get(key)?.types ?? []), type] });
  }
  const conditions = [...groups.values()].map(({ rows, types }) => `${typeIs(`${x}.type`, types, p)} AND ${rowsCondition(rows, x, p)}`);
  return conditions.length === 1 ? conditions[0] : `(${conditions.map((cond) => `(${cond})`).join(' OR ')})`;
}

/** The condition on reference rows `x` that they are where referenceRows says a parameter's values are. */
export function rowsCondition(rows: ReturnType<typeof referenceRows>, x: string, p: SqlParams): string {
  const params = rows.params.length === 1 ? `${x}.param = ${p.add(rows.params[0])}` : `${x}.param = ANY(${p.add(rows.params)}::text[])`;
  return rows.targetType ? `${params} AND ${x}.target_type = ${p.add(rows.targetType)}` : params;
}
