import type { ValueSet, ValueSetComposeInclude, ValueSetComposeIncludeConceptDesignation, ValueSetExpansionContains } from '@medplum/fhirtypes';
import { fail } from '../fhir/outcome.js';
import { normalizeString } from '../search/normalize.js';
import type { Queryable } from '../store/db.js';
import { cached } from './cache.js';
import { ancestors, descendants, findConcept, type CompiledCodeSystem, type Concept } from './codesystem.js';
import { findCodeSystem, findValueSet, splitCanonical } from './sources.js';
import { compareVersions } from './versions.js';

/** One code of an expansion. */
export interface Entry {
  system: string;
  version?: string;
  code: string;
  display?: string;
  inactive: boolean;
  abstract: boolean;
  designations: ValueSetComposeIncludeConceptDesignation[];
  /** The words of the display and designations, accent-free and lower case, for type-ahead filters. */
  words: string[];
}

/** The codes of a value set, compiled once per change of the terminology. */
export interface Expansion {
  entries: Entry[];
  /** Entries by `system|code`. */
  byCoding: Map<string, Entry>;
  /** The code systems used, with the version of each. */
  used: Map<string, string | undefined>;
  /** Code systems included whole or by filter that are not held completely: whether a code of theirs is in cannot be told. */
  unknownSystems: Set<string>;
  /** Included value sets that are not held: a code of any system might have come through them. */
  unknownValueSets: Set<string>;
  warnings: string[];
  /** Set when a version of the value set was asked that is not held, and another stood in. */
  substituted?: string;
}

const MAX_DEPTH = 10;

/** The expansion of a stored value set (`url` or `url|version`); undefined when no such value set is held. */
export async function expansionOf(q: Queryable, canonical: string, version?: string): Promise<Expansion | undefined> {
  const c = splitCanonical(canonical, version);
  return cached(`expansion|${c.url}|${c.version ?? ''}`, async () => {
    const vs = await findValueSet(q, c.url, c.version);
    const expansion = vs && (await expandDefinition(q, vs, 0));
    if (expansion && c.version && compareVersions(vs.version, c.version) !== 0) {
      expansion.substituted = `${c.url}|${c.version} is not held: version ${vs.version ?? '(none)'} was used`;
      expansion.warnings.push(expansion.substituted);
    }
    return expansion;
  });
}

/** The expansion of a value set resource (stored or given in a request). */
export async function expandDefinition(q: Queryable, vs: ValueSet, depth: number): Promise<Expansion> {
  const out: Expansion = { entries: [], byCoding: new Map(), used: new Map(), unknownSystems: new Set(), unknownValueSets: new Set(), warnings: [] };
  if (!vs.compose) {
    // A value set published already expanded.
    for (const c of flatten(vs.expansion?.contains ?? [])) {
      if (c.system && c.code) add(out, entry(c.system, c.version, c.code, c.display, c.inactive === true, c.abstract === true, c.designation ?? []));
    }
    return out;
  }
  const included = new Map<string, Entry>();
  for (const include of vs.compose.include) for (const e of await includeSet(q, include, vs, out, depth)) included.set(key(e), e);
  for (const exclude of vs.compose.exclude ?? []) for (const e of await includeSet(q, exclude, vs, out, depth)) included.delete(key(e));
  for (const e of included.values()) if (vs.compose.inactive !== false || !e.inactive) add(out, e);
  return out;
}

const key = (e: { system: string; code: string }) => `${e.system}|${e.code}`;

function add(out: Expansion, e: Entry): void {
  if (out.byCoding.has(key(e))) return;
  out.entries.push(e);
  out.byCoding.set(key(e), e);
}

function* flatten(contains: ValueSetExpansionContains[]): Generator<ValueSetExpansionContains> {
  for (const c of contains) {
    yield c;
    yield* flatten(c.contains ?? []);
  }
}

function entry(
  system: string,
  version: string | undefined,
  code: string,
  display: string | undefined,
  inactive: boolean,
  abstract: boolean,
  designations: ValueSetComposeIncludeConceptDesignation[],
): Entry {
  const text = [display, ...designations.map((d) => d.value)].filter(Boolean).join(' ');
  return { system, version, code, display, inactive, abstract, designations, words: wordsOf(text) };
}

/** Accent-free lower-case words. */
export const wordsOf = (text: string) =>
  normalizeString(text)
    .split(/[^\p{L}\p{N}]+/u)
    .filter(Boolean);

/** The codes one include (or exclude) names: its system part and its value sets, intersected. */
async function includeSet(q: Queryable, include: ValueSetComposeInclude, vs: ValueSet, out: Expansion, depth: number): Promise<Entry[]> {
  let result: Entry[] | undefined;
  if (include.system) result = await systemPart(q, include, vs, out);
  for (const canonical of include.valueSet ?? []) {
    if (depth >= MAX_DEPTH) throw fail(422, 'processing', `Value sets nested more than ${MAX_DEPTH} deep (a cycle?) at ${canonical}`);
    const c = splitCanonical(canonical);
    const vs = await findValueSet(q, c.url, c.version);
    if (!vs) {
      out.unknownValueSets.add(c.url);
      out.warnings.push(`Value set ${canonical} is not held: its codes are left out`);
      return [];
    }
    const nested = await expandDefinition(q, vs, depth + 1);
    for (const [system, version] of nested.used) out.used.set(system, version);
    for (const u of nested.unknownSystems) out.unknownSystems.add(u);
    for (const u of nested.unknownValueSets) out.unknownValueSets.add(u);
    out.warnings.push(...nested.warnings);
    result = result ? result.filter((e) => nested.byCoding.has(key(e))) : nested.entries;
  }
  return result ?? [];
}

/**
 * An include's codes from its code system: the version it names, else (when held) the version of
 * the value set itself, which is that of the same release of an IG (FR Core 2.1.0 value sets on
 * FR Core 2.1.0 code systems, when 2.2.0 is held too), else the newest.
 */
async function systemPart(q: Queryable, include: ValueSetComposeInclude, vs: ValueSet, out: Expansion): Promise<Entry[]> {
  const system = include.system as string;
  const cs = await findCodeSystem(q, system, include.version ?? vs.version);
  if (cs) {
    out.used.set(system, cs.version);
    if (include.version && compareVersions(cs.version, include.version) !== 0) {
      out.warnings.push(`${system}|${include.version} is not held: version ${cs.version ?? '(none)'} was used`);
    }
  }
  if (include.concept?.length) {
    return include.concept.map((c) => {
      const concept = cs && findConcept(cs, c.code);
      return entry(system, cs?.version, c.code, c.display ?? concept?.display, concept?.inactive ?? false, concept?.abstract ?? false, [
        ...(c.designation ?? []),
        ...(concept?.designations ?? []),
      ]);
    });
  }
  if (cs?.content !== 'complete') {
    out.unknownSystems.add(system);
    out.warnings.push(cs ? `${system} is held only in part (${cs.content})` : `Code system ${system} is not held: its codes are left out`);
    if (!cs) return [];
  }
  const tests = (include.filter ?? []).map((f) => filterTest(cs, f.property, f.op, f.value));
  const entries: Entry[] = [];
  for (const concept of cs.concepts.values()) {
    if (tests.every((t) => t(concept))) entries.push(conceptEntry(cs, concept));
  }
  return entries;
}

export const conceptEntry = (cs: CompiledCodeSystem, c: Concept) => entry(cs.url, cs.version, c.code, c.display, c.inactive, c.abstract, c.designations);

/** The test of a compose filter on the concepts of a code system. */
function filterTest(cs: CompiledCodeSystem, property: string, op: string, value: string): (c: Concept) => boolean {
  const self = () => findConcept(cs, value)?.code ?? value;
  switch (op) {
    case 'is-a': {
      const set = new Set([self(), ...descendants(cs, value)]);
      return (c) => set.has(c.code);
    }
    case 'descendent-of': {
      const set = descendants(cs, value);
      return (c) => set.has(c.code);
    }
    case 'is-not-a': {
      const set = new Set([self(), ...descendants(cs, value)]);
      return (c) => !set.has(c.code);
    }
    case 'generalizes': {
      const set = new Set([self(), ...ancestors(cs, value)]);
      return (c) => set.has(c.code);
    }
    case '=':
      return (c) => propertyValues(c, property).includes(value);
    case 'in': {
      const set = new Set(value.split(','));
      return (c) => propertyValues(c, property).some((v) => set.has(v));
    }
    case 'not-in': {
      const set = new Set(value.split(','));
      return (c) => !propertyValues(c, property).some((v) => set.has(v));
    }
    case 'exists':
      return (c) => propertyValues(c, property).length > 0 === (value === 'true');
    default:
      // regex is left out on purpose: a pattern from a client could hold the server (ReDoS).
      throw fail(422, 'not-supported', `Value set filter operation '${op}' is not supported`);
  }
}

/** A concept's values of a property, as text: code, display and the hierarchy count as properties. */
function propertyValues(c: Concept, property: string): string[] {
  switch (property) {
    case 'code':
    case 'concept':
      return [c.code];
    case 'display':
      return c.display ? [c.display] : [];
    case 'parent':
      return c.parents;
    case 'child':
      return c.children;
    case 'inactive':
      return [String(c.inactive)];
    default:
      return c.properties
        .filter((p) => p.code === property)
        .map((p) => String(p.valueCode ?? p.valueString ?? p.valueBoolean ?? p.valueInteger ?? p.valueDecimal ?? p.valueDateTime ?? p.valueCoding?.code ?? ''));
  }
}
