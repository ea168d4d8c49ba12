import type { CodeSystem, CodeSystemConcept, CodeSystemConceptDesignation, CodeSystemConceptProperty } from '@medplum/fhirtypes';

/** A concept as the engine uses it: hierarchy links both ways, status flattened. */
export interface Concept {
  code: string;
  display?: string;
  definition?: string;
  /** The concept-properties#status value (active, deprecated, retired, ...), if given. */
  status?: string;
  /** Deprecated, retired or flagged inactive: not for new records (activeOnly leaves it out). */
  inactive: boolean;
  abstract: boolean;
  parents: string[];
  children: string[];
  designations: CodeSystemConceptDesignation[];
  properties: CodeSystemConceptProperty[];
}

/** A CodeSystem compiled once for lookups, hierarchy walks and expansions. */
export interface CompiledCodeSystem {
  url: string;
  version?: string;
  name?: string;
  title?: string;
  language?: string;
  /** complete, fragment, example, not-present, supplement: only `complete` tells a code is not in it. */
  content: string;
  caseSensitive: boolean;
  concepts: Map<string, Concept>;
  /** Codes by lower case, for code systems that are not case sensitive (the NOS ones). */
  folded?: Map<string, Concept>;
}

const STATUS_URI = 'http://hl7.org/fhir/concept-properties#status';
const INACTIVE_STATUSES = new Set(['deprecated', 'retired', 'inactive']);

export function compileCodeSystem(cs: CodeSystem): CompiledCodeSystem {
  // Properties are named by code in concepts; the standard ones are recognised by their URI.
  const byUri = new Map((cs.property ?? []).filter((p) => p.uri).map((p) => [p.uri as string, p.code as string]));
  const statusCode = byUri.get(STATUS_URI) ?? 'status';
  const parentCode = byUri.get('http://hl7.org/fhir/concept-properties#parent') ?? 'parent';
  const inactiveCode = byUri.get('http://hl7.org/fhir/concept-properties#inactive') ?? 'inactive';
  const abstractCode = byUri.get('http://hl7.org/fhir/concept-properties#notSelectable') ?? 'notSelectable';
  const concepts = new Map<string, Concept>();
  const visit = (c: CodeSystemConcept, parent?: string) => {
    if (!c.code) return;
    const properties = c.property ?? [];
    const value = (code: string) => properties.find((p) => p.code === code);
    const status = value(statusCode)?.valueCode ?? value(statusCode)?.valueString;
    const existing = concepts.get(c.code);
    const concept: Concept = existing ?? {
      code: c.code,
      display: c.display,
      definition: c.definition,
      status,
      inactive: (!!status && INACTIVE_STATUSES.has(status)) || value(inactiveCode)?.valueBoolean === true,
      abstract: value(abstractCode)?.valueBoolean === true,
      parents: properties.filter((p) => p.code === parentCode && p.valueCode).map((p) => p.valueCode as string),
      children: [],
      designations: c.designation ?? [],
      properties,
    };
    if (parent && !concept.parents.includes(parent)) concept.parents.push(parent);
    concepts.set(c.code, concept);
    for (const child of c.concept ?? []) visit(child, c.code);
  };
  for (const c of cs.concept ?? []) visit(c);
  for (const concept of concepts.values()) {
    for (const p of concept.parents) concepts.get(p)?.children.push(concept.code);
  }
  const caseSensitive = cs.caseSensitive !== false;
  return {
    url: cs.url as string,
    version: cs.version,
    name: cs.name,
    title: cs.title,
    language: cs.language,
    content: cs.content ?? 'complete',
    caseSensitive,
    concepts,
    folded: caseSensitive ? undefined : new Map([...concepts.values()].map((c) => [c.code.toLowerCase(), c])),
  };
}

export function findConcept(cs: CompiledCodeSystem, code: string): Concept | undefined {
  return cs.concepts.get(code) ?? cs.folded?.get(code.toLowerCase());
}

/** The codes below `code` in the hierarchy (not itself). */
export function descendants(cs: CompiledCodeSystem, code: string): Set<string> {
  return walk(cs, code, (c) => c.children);
}

/** The codes above `code` in the hierarchy (not itself). */
export function ancestors(cs: CompiledCodeSystem, code: string): Set<string> {
  return walk(cs, code, (c) => c.parents);
}

function walk(cs: CompiledCodeSystem, code: string, next: (c: Concept) => string[]): Set<string> {
  const found = new Set<string>();
  const start = findConcept(cs, code);
  const stack = start ? [...next(start)] : [];
  while (stack.length) {
    const c = stack.pop() as string;
    if (found.has(c)) continue;
    found.add(c);
    const concept = cs.concepts.get(c);
    if (concept) stack.push(...next(concept));
  }
  return found;
}

export type Subsumption = 'equivalent' | 'subsumes' | 'subsumed-by' | 'not-subsumed';

/** How code A relates to code B in the hierarchy (both must be in the code system). */
export function subsumption(cs: CompiledCodeSystem, a: Concept, b: Concept): Subsumption {
  if (a.code === b.code) return 'equivalent';
  if (descendants(cs, a.code).has(b.code)) return 'subsumes';
  if (descendants(cs, b.code).has(a.code)) return 'subsumed-by';
  return 'not-subsumed';
}
