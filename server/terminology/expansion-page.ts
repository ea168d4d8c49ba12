import { randomUUID } from 'node:crypto';
import type { ValueSet, ValueSetExpansionContains, ValueSetExpansionParameter } from '@medplum/fhirtypes';
import { fail, notFound } from '../fhir/outcome.js';
import type { Queryable } from '../store/db.js';
import { syncTerminology } from './cache.js';
import { expandDefinition, expansionOf, wordsOf, type Entry, type Expansion } from './expand.js';
import { findValueSet, splitCanonical } from './sources.js';

export interface ExpandOptions {
  /** Type-ahead text: every word must begin a word of the display (or a designation), or the text begin the code. */
  filter?: string;
  count?: number;
  offset?: number;
  displayLanguage?: string;
  activeOnly?: boolean;
  includeDesignations?: boolean;
}

/** Beyond this many codes, an expansion must be paged (count) or filtered. */
const MAX_EXPANSION = 10_000;

/** $expand: the value set (canonical URL or resource) with its expansion, filtered and paged. */
export async function expand(q: Queryable, valueSet: string | ValueSet, options: ExpandOptions = {}): Promise<ValueSet> {
  await syncTerminology(q);
  let definition: ValueSet | undefined;
  let expansion: Expansion | undefined;
  if (typeof valueSet === 'string') {
    const c = splitCanonical(valueSet);
    definition = await findValueSet(q, c.url, c.version);
    expansion = definition && (await expansionOf(q, valueSet));
    if (!definition || !expansion) throw notFound(`Value set ${valueSet} is not held`);
  } else {
    definition = valueSet;
    expansion = await expandDefinition(q, valueSet, 0);
  }
  let entries = options.activeOnly ? expansion.entries.filter((e) => !e.inactive) : expansion.entries;
  if (options.filter) entries = typeAhead(entries, options.filter);
  const offset = options.offset ?? 0;
  const count = options.count ?? entries.length - offset;
  if (options.count === undefined && entries.length > MAX_EXPANSION) {
    throw fail(422, 'too-costly', `${entries.length} codes: page the expansion with count (and offset), or narrow it with filter`);
  }
  const parameter: ValueSetExpansionParameter[] = [
    ...(options.filter ? [{ name: 'filter', valueString: options.filter }] : []),
    ...(options.count !== undefined ? [{ name: 'count', valueInteger: options.count }] : []),
    { name: 'offset', valueInteger: offset },
    ...(options.displayLanguage ? [{ name: 'displayLanguage', valueCode: options.displayLanguage }] : []),
    ...(options.activeOnly ? [{ name: 'activeOnly', valueBoolean: true }] : []),
    ...[...expansion.used].map(([system, version]) => ({ name: 'used-codesystem', valueUri: version ? `${system}|${version}` : system })),
    ...expansion.warnings.map((w) => ({ name: 'warning', valueString: w })),
  ];
  const page = entries.slice(offset, offset + count);
  const { id, url, version, name, title, status, language } = definition;
  return {
    resourceType: 'ValueSet',
    ...(id ? { id } : {}),
    url,
    version,
    name,
    title,
    status: status ?? 'active',
    ...(language ? { language } : {}),
    expansion: {
      identifier: `urn:uuid:${randomUUID()}`,
      timestamp: new Date().toISOString(),
      total: entries.length,
      offset,
      parameter,
      // FHIR JSON has no empty arrays: no contains when no code is on the page.
      ...(page.length ? { contains: page.map((e) => contains(e, options)) } : {}),
    },
  };
}

/** Entries matching a type-ahead text; those whose display begins with it first. */
function typeAhead(entries: Entry[], filter: string): Entry[] {
  const words = wordsOf(filter);
  const code = filter.trim().toLowerCase();
  const matching = entries.filter(
    (e) => e.code.toLowerCase().startsWith(code) || (words.length > 0 && words.every((w) => e.words.some((ew) => ew.startsWith(w)))),
  );
  const first = words[0];
  const leading = matching.filter((e) => first !== undefined && e.words[0]?.startsWith(first));
  return [...leading, ...matching.filter((e) => !leading.includes(e))];
}

function contains(e: Entry, options: ExpandOptions): ValueSetExpansionContains {
  const display = options.displayLanguage ? inLanguage(e, options.displayLanguage) : e.display;
  return {
    system: e.system,
    ...(e.version ? { version: e.version } : {}),
    code: e.code,
    ...(display !== undefined ? { display } : {}),
    ...(e.inactive ? { inactive: true } : {}),
    ...(e.abstract ? { abstract: true } : {}),
    ...(options.includeDesignations && e.designations.length ? { designation: e.designations } : {}),
  };
}

/** A designation in the language asked for, if there is one (`fr` matches `fr-FR`); else the display. */
function inLanguage(e: Entry, language: string): string | undefined {
  const lang = language.toLowerCase();
  const d = e.designations.find((d) => d.language?.toLowerCase() === lang) ?? e.designations.find((d) => d.language?.toLowerCase().split('-')[0] === lang);
  return d?.value ?? e.display;
}
