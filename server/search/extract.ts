import { evalFhirPathTyped, toTypedValue, type FhirPathAtom, type TypedValue } from '@medplum/core';
import { decodeHTML } from 'entities';
import type {
  Address,
  CodeableConcept,
  Coding,
  ContactPoint,
  HumanName,
  Identifier,
  Money,
  Period,
  Quantity,
  Range,
  Reference,
  Resource,
  Timing,
} from '@medplum/fhirtypes';
import { parseLocalReference } from '../fhir/ids.js';
import { emptyIndexRows, type IndexRows } from '../store/search-index.js';
import { dateRange } from './dates.js';
import { normalizeString } from './normalize.js';
import type { SimplePath } from './simple-path.js';
import { RESOURCE_COLUMN_PARAMS, searchParamsOf, type SearchParam } from './parameters.js';

const STRING_TYPES = new Set(['string', 'markdown', 'code', 'id', 'uri', 'url', 'canonical', 'oid', 'uuid']);
const QUANTITY_TYPES = new Set(['Quantity', 'Age', 'Duration', 'Distance', 'Count', 'SimpleQuantity', 'MoneyQuantity']);

/**
 * Evaluates every SearchParameter of the resource's type on it and returns the index rows.
 * References to our own base URL are indexed as local references.
 */
export function extractIndex(resource: Resource, baseUrl: string): IndexRows {
  const rows = emptyIndexRows();
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
    if (sp.rowsOf) {
      // Its references are in the rows of the parameters it derives from; only identifiers are its own.
      for (const v of values) addReferenceIdentifier(rows, sp.code, v);
      continue;
    }
    if (sp.type !== 'composite') {
      for (const v of values) addValue(rows, sp.code, sp.type, v, baseUrl, undefined, sp.impliedSystem);
      continue;
    }
    // One group per element: its components are matched together, as a tuple.
    values.forEach((element, e) => {
      grp++;
      sp.components?.forEach((c, i) => {
        for (const v of once(`${sp.expression}[${e}].${c.expression}`, c.atom, [element])) {
          addValue(rows, componentParam(sp.code, i), c.param.type, v, baseUrl, grp);
        }
      });
    });
  }
  if (params.has('_content')) rows.text.push(...fullText(resource));
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

/** The index parameter name of the i-th component of a composite parameter. */
export const componentParam = (code: string, i: number) => `${code}$${i}`;

function evaluate(atom: FhirPathAtom, input: TypedValue[]): TypedValue[] {
  try {
    return evalFhirPathTyped(atom, input);
  } catch {
    return []; // an expression that does not apply to this instance's shape indexes nothing
  }
}

function addValue(
  rows: IndexRows,
  param: string,
  type: SearchParam['type'],
  v: TypedValue,
  baseUrl: string,
  grp?: number,
  impliedSystem?: string,
): void {
  const g = grp === undefined ? {} : { grp };
  switch (type) {
    case 'string':
      for (const s of stringsOf(v)) rows.string.push({ param, value: normalizeString(s), exact: s, ...g });
      break;
    case 'token':
      rows.token.push(...tokensOf(param, v, impliedSystem).map((r) => ({ ...r, ...g })));
      break;
    case 'date':
      for (const [low, high] of datesOf(v)) rows.date.push({ param, low, high, ...g });
      break;
    case 'number':
      if (typeof v.value === 'number') rows.number.push({ param, value: String(v.value), ...g });
      break;
    case 'quantity': {
      const q = quantityOf(v);
      if (q) rows.quantity.push({ param, ...q, ...g });
      break;
    }
    case 'uri':
      if (typeof v.value === 'string') rows.uri.push({ param, value: v.value, ...g });
      break;
    case 'reference':
      addReference(rows, param, v, baseUrl);
      break;
    default:
      break; // special parameters (Location near) are not indexed
  }
}

/**
 * `_text`: the narrative as plain text; `_content`: every string of the resource that holds words
 * (not references, URIs, dates or base64: each would add a term of its own to the index of every
 * write). Stored without accents, like string values, so that 'helene' finds 'Hélène'.
 */
function fullText(resource: Resource): IndexRows['text'] {
  const rows: IndexRows['text'] = [];
  const div = (resource as { text?: { div?: string } }).text?.div;
  if (div) rows.push({ param: '_text', value: normalizeString(htmlToText(div)) });
  const strings: string[] = [];
  collectStrings(resource, strings);
  if (strings.length) rows.push({ param: '_content', value: normalizeString(strings.join(' ')) });
  return rows;
}

/** Strings that are no words: URIs, dates and instants, long runs without a space (base64, hashes). */
const NOT_WORDS = /^(?:[a-z][a-z0-9+.-]*:\S*|\d{4}(?:-\d{2}(?:-\d{2}(?:T\S*)?)?)?|\S{65,})$/i;

function collectStrings(value: unknown, out: string[], key = ''): void {
  if (typeof value === 'string') {
    if (key === 'div') out.push(htmlToText(value));
    else if (key !== 'reference' && !NOT_WORDS.test(value)) out.push(value);
  }
  else if (Array.isArray(value)) for (const v of value) collectStrings(v, out, key);
  else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) if (k !== 'meta' && k !== 'resourceType') collectStrings(v, out, k);
  }
}

/** Narrative XHTML as plain text: tags dropped, entities decoded. */
const htmlToText = (xhtml: string) => decodeHTML(xhtml.replace(/<[^>]*>/g, ' '));

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

function tokensOf(param: string, v: TypedValue, impliedSystem?: string): IndexRows['token'] {
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
    case 'code':
      return typeof v.value === 'string' ? [row(impliedSystem, v.value)] : [];
    default:
      return typeof v.value === 'string' ? [row(undefined, v.value)] : [];
  }
}

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

function quantityOf(v: TypedValue): Omit<IndexRows['quantity'][number], 'param'> | undefined {
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

/** A reference's identifier, for `:identifier`. */
function addReferenceIdentifier(rows: IndexRows, param: string, v: TypedValue): void {
  const identifier = v.type === 'Reference' ? (v.value as Reference).identifier : undefined;
  if (identifier?.value) rows.token.push({ param: `${param}:identifier`, system: identifier.system ?? null, code: identifier.value, text: null });
}

function addReference(rows: IndexRows, param: string, v: TypedValue, baseUrl: string): void {
  if (v.type === 'Reference') {
    const ref = v.value as Reference;
    if (ref.reference && !ref.reference.startsWith('#')) {
      const local = parseLocalReference(ref.reference, baseUrl);
      rows.reference.push({
        param,
        targetType: local?.type ?? null,
        targetId: local?.id ?? null,
        url: local ? null : ref.reference,
      });
    }
    addReferenceIdentifier(rows, param, v);
    return;
  }
  if (typeof v.value === 'string') {
    // canonical or uri references: matched by URL, with and without a |version suffix
    rows.reference.push({ param, targetType: null, targetId: null, url: v.value });
    const bar = v.value.indexOf('|');
    if (bar > 0) rows.reference.push({ param, targetType: null, targetId: null, url: v.value.slice(0, bar) });
  }
}
