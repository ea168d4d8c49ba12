import { fail, notFound } from '../fhir/outcome.js';
import { readCanonicalUrls } from '../store/canonicals.js';
import type { Queryable } from '../store/db.js';
import { cached, syncTerminology } from './cache.js';
import { ancestors, descendants, findConcept, subsumption, type CompiledCodeSystem, type Concept, type Subsumption } from './codesystem.js';
import { conceptEntry, expansionOf, wordsOf, type Entry } from './expand.js';
import { findCodeSystem, splitCanonical } from './sources.js';

/**
 * The terminology engine: expansions, code validation, lookups and subsumption over the
 * CodeSystem and ValueSet resources of the store (the NOS ones Maillage installs, those of loaded
 * packages) and the R4 terminology. Every function brings the in-memory compilations up to date
 * first (one cheap query at most once a second), so that callers need not.
 */

export interface Lookup {
  system: CompiledCodeSystem;
  concept: Concept;
}

/** $lookup: the concept of a code in a code system; 404 when either is unknown. */
export async function lookup(q: Queryable, systemUrl: string, code: string, version?: string): Promise<Lookup> {
  await syncTerminology(q);
  const c = splitCanonical(systemUrl, version);
  const cs = await findCodeSystem(q, c.url, c.version);
  if (!cs) throw notFound(`Code system ${c.url} is not held`);
  const concept = findConcept(cs, code);
  if (!concept) throw notFound(`Code ${code} is not in ${c.url}${cs.content === 'complete' ? '' : ` (held only in part: ${cs.content})`}`);
  return { system: cs, concept };
}

/** $subsumes: how code A relates to code B in the code system's hierarchy. */
export async function subsumes(q: Queryable, systemUrl: string, codeA: string, codeB: string, version?: string): Promise<Subsumption> {
  const a = await lookup(q, systemUrl, codeA, version);
  const b = await lookup(q, systemUrl, codeB, version);
  return subsumption(a.system, a.concept, b.concept);
}

/** The (system, code) pairs of a value set, for the `:in` and `:not-in` search modifiers. */
export async function valueSetCodings(q: Queryable, valueSetUrl: string): Promise<{ system: string; code: string }[]> {
  await syncTerminology(q);
  const expansion = await expansionOf(q, valueSetUrl);
  if (!expansion) throw fail(400, 'invalid', `Value set ${valueSetUrl} is not held`);
  return expansion.entries;
}

/**
 * A code with those below it (`below`) or above it (`above`) in its code system, for the token
 * search modifiers. A code system that is not held gives the code alone.
 */
export async function hierarchyCodes(q: Queryable, systemUrl: string, code: string, direction: 'above' | 'below'): Promise<string[]> {
  await syncTerminology(q);
  const cs = await findCodeSystem(q, systemUrl);
  const concept = cs && findConcept(cs, code);
  if (!cs || !concept) return [code];
  return [concept.code, ...(direction === 'below' ? descendants(cs, concept.code) : ancestors(cs, concept.code))];
}

/**
 * The codes, in every code system the store holds, whose display or a designation has every word
 * of `text` beginning one of its words: the token `:text` modifier matches them as well as the
 * resource's own display, which practice software often leaves out.
 */
export async function codesWithText(q: Queryable, text: string): Promise<{ system: string; code: string }[]> {
  await syncTerminology(q);
  const words = wordsOf(text);
  if (!words.length) return [];
  const all = await cached('text-index', async () => {
    const entries: Entry[] = [];
    for (const url of await readCanonicalUrls(q, 'CodeSystem')) {
      const cs = await findCodeSystem(q, url);
      if (cs) for (const c of cs.concepts.values()) entries.push(conceptEntry(cs, c));
    }
    return entries;
  });
  return all.filter((e) => words.every((w) => e.words.some((ew) => ew.startsWith(w))));
}

export { validateCode, validateCodeInDefinition, validateCodeInSystem, type CodeValidation } from './check.js';
export type { Subsumption } from './codesystem.js';
export { expand, type ExpandOptions } from './expansion-page.js';
