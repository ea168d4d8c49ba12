import type { Resource } from '@medplum/fhirtypes';
import { decodeHTML } from 'entities';
import { textTable as table, type Table, type TextRow } from '../../store/index-tables.js';
import { normalizeString } from '../normalize.js';
import { unescape } from '../values.js';
import { hasRows, or, rowsWhere, type Compiling, type Extraction, type Kind } from './kind.js';

/**
 * The full-text parameters `_text` and `_content` (FULL_TEXT_PARAMS): a resource's words, searched
 * as PostgreSQL text search queries (web search syntax: "a phrase", -word, or). They are string
 * parameters, and take a string's modifiers in full-text terms: `:exact`, the words as one phrase,
 * in order; `:contains`, every word as the start of one of the text's (a search as one types).
 */
export const textKind: Kind & { table: Table<TextRow>; extract(resource: Resource, to: Extraction): void } = {
  table,
  extract(resource, to) {
    for (const row of fullText(resource)) to.add(table, row);
  },
  exists: (param, c) => hasRows(table.name, param.code, c),
  match(f, c) {
    const queries = f.values.map((v) => `x.doc @@ ${tsQuery(normalizeString(unescape(v)), f.modifier, c.p)}`);
    return rowsWhere(c, table.name, f.param.code, or(queries));
  },
};

function tsQuery(text: string, modifier: string | undefined, p: Compiling['p']): string {
  if (modifier === 'exact') return `phraseto_tsquery('french', ${p.add(text)})`;
  if (modifier !== 'contains') return `websearch_to_tsquery('french', ${p.add(text)})`;
  // Words only: to_tsquery reads its own syntax; a stop word's prefix is dropped with it.
  const words = text.match(/[\p{L}\p{N}]+/gu) ?? [];
  return `to_tsquery('french', ${p.add(words.map((w) => `${w}:*`).join(' & '))})`;
}

/**
 * `_text`: the narrative as plain text; `_content`: every string of the resource that holds words
 * (not references, URIs, dates or base64: each would add a term of its own to the index of every
 * write). Stored without accents, like string values, so that 'helene' finds 'Hélène'.
 */
function fullText(resource: Resource): TextRow[] {
  const rows: TextRow[] = [];
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
  } else if (Array.isArray(value)) for (const v of value) collectStrings(v, out, key);
  else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) if (k !== 'meta' && k !== 'resourceType') collectStrings(v, out, k);
  }
}

/** Narrative XHTML as plain text: tags dropped, entities decoded. */
const htmlToText = (xhtml: string) => decodeHTML(xhtml.replace(/<[^>]*>/g, ' '));
