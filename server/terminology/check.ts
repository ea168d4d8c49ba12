import type { ValueSet } from '@medplum/fhirtypes';
import type { Queryable } from '../store/db.js';
import { syncTerminology } from './cache.js';
import { findConcept } from './codesystem.js';
import { expandDefinition, expansionOf, type Entry, type Expansion } from './expand.js';
import { findCodeSystem, splitCanonical } from './sources.js';
import { compareVersions } from './versions.js';

/** The answer to "is this code in this value set (or code system)?" */
export interface CodeValidation {
  result: boolean;
  /**
   * False when the answer cannot be known here: the value set, or the code system the code would
   * come from, is not held (completely). A validator reports that as a warning, not an error.
   */
  known: boolean;
  /** Why not, or a warning (wrong display, inactive code, version substituted). */
  message?: string;
  /** The display the terminology gives the code. */
  display?: string;
}

/** Checks a code (with its system, if known) against a value set given by canonical URL (`url` or `url|version`). */
export async function validateCode(q: Queryable, valueSetUrl: string, system: string | undefined, code: string, display?: string): Promise<CodeValidation> {
  await syncTerminology(q);
  const expansion = await expansionOf(q, valueSetUrl);
  if (!expansion) return { result: false, known: false, message: `Value set ${valueSetUrl} is not held` };
  return checkInExpansion(expansion, valueSetUrl, system, code, display);
}

/** The same against a value set resource given in a request. */
export async function validateCodeInDefinition(
  q: Queryable,
  vs: ValueSet,
  system: string | undefined,
  code: string,
  display?: string,
): Promise<CodeValidation> {
  await syncTerminology(q);
  return checkInExpansion(await expandDefinition(q, vs, 0), vs.url ?? 'the value set given', system, code, display);
}

/** The answer, with the note of a value set version that stood in for the one asked. */
function checkInExpansion(expansion: Expansion, name: string, system: string | undefined, code: string, display?: string): CodeValidation {
  const answer = membership(expansion, name, system, code, display);
  if (!expansion.substituted) return answer;
  return { ...answer, message: [answer.message, expansion.substituted].filter(Boolean).join('; ') };
}

function membership(expansion: Expansion, name: string, system: string | undefined, code: string, display?: string): CodeValidation {
  const found = system !== undefined ? expansion.byCoding.get(`${system}|${code}`) : expansion.entries.filter((e) => e.code === code);
  const entries = Array.isArray(found) ? found : found ? [found] : [];
  if (entries.length > 1) return { result: false, known: true, message: `Code ${code} is in ${name} in several code systems: give the system` };
  const [e] = entries;
  if (e) return { result: true, known: true, display: e.display, message: notes(e, display) };
  const { unknownSystems, unknownValueSets } = expansion;
  const known = !unknownValueSets.size && (system !== undefined ? !unknownSystems.has(system) : !unknownSystems.size);
  const what = system ? `${system}|${code}` : code;
  const missing = [...unknownValueSets, ...unknownSystems].join(', ');
  return {
    result: false,
    known,
    message: known ? `Code ${what} is not in ${name}` : `Whether ${what} is in ${name} cannot be told: ${missing} not held completely`,
  };
}

/** A warning about a code found: a display that is none of its names, or an inactive code. */
function notes(e: Pick<Entry, 'code' | 'display' | 'designations' | 'inactive'>, display?: string): string | undefined {
  const messages: string[] = [];
  if (display !== undefined && e.display !== undefined) {
    const names = [e.display, ...e.designations.map((d) => d.value)].map((n) => n.trim().toLowerCase());
    if (!names.includes(display.trim().toLowerCase())) messages.push(`The display of ${e.code} is '${e.display}', not '${display}'`);
  }
  if (e.inactive) messages.push(`Code ${e.code} is inactive (deprecated or retired)`);
  return messages.length ? messages.join('; ') : undefined;
}

/** Checks a code against a code system (`url`, or `url|version`). */
export async function validateCodeInSystem(q: Queryable, systemUrl: string, code: string, version?: string, display?: string): Promise<CodeValidation> {
  await syncTerminology(q);
  const c = splitCanonical(systemUrl, version);
  const cs = await findCodeSystem(q, c.url, c.version);
  if (!cs) return { result: false, known: false, message: `Code system ${c.url} is not held` };
  const concept = findConcept(cs, code);
  if (concept) {
    const substituted = c.version && compareVersions(cs.version, c.version) !== 0 ? `version ${cs.version} used for ${c.version}` : undefined;
    const message = [notes(concept, display), substituted].filter(Boolean).join('; ') || undefined;
    return { result: true, known: true, display: concept.display, message };
  }
  const known = cs.content === 'complete';
  return {
    result: false,
    known,
    message: known ? `Code ${code} is not in ${c.url}` : `Code ${code} is not in the part of ${c.url} that is held (${cs.content})`,
  };
}
