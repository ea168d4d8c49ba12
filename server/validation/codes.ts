import type { CodeSystem, CodeSystemConcept, ValueSet, ValueSetComposeInclude } from '@medplum/fhirtypes';
import type { Registry } from './canonicals.js';
import type { Expansion } from './valuesets.js';

/**
 * Value sets expanded from the registry, for the bindings of profiles. A value set is expanded
 * when everything it includes is at hand: listed concepts, complete code systems the registry
 * holds (whole, or under an is-a filter), other value sets; its stored expansion otherwise.
 * Anything else (SNOMED CT, NOS code systems only listed in another package) is left unchecked.
 */
const expansions = new WeakMap<Registry, Map<string, Expansion | null>>();

export function valueSetCodes(registry: Registry, canonical: string): Expansion | undefined {
  let cache = expansions.get(registry);
  if (!cache) expansions.set(registry, (cache = new Map()));
  const cached = cache.get(canonical);
  if (cached !== undefined) return cached ?? undefined;
  cache.set(canonical, null); // a value set that includes itself expands to nothing
  const valueSet = registry.resolve<ValueSet>('ValueSet', canonical)?.resource;
  const expansion = valueSet ? expand(registry, valueSet) : undefined;
  cache.set(canonical, expansion ?? null);
  return expansion;
}

/** Forget expansions: the registry's content changed. */
export function forgetExpansions(registry: Registry): void {
  expansions.delete(registry);
}

function expand(registry: Registry, valueSet: ValueSet): Expansion | undefined {
  const fromCompose = valueSet.compose && composeCodes(registry, valueSet);
  if (fromCompose) return fromCompose;
  const contains = valueSet.expansion?.contains;
  if (!contains?.length || (valueSet.expansion?.total ?? 0) > contains.length) return undefined;
  const expansion: Expansion = { codes: new Set(), codings: new Set() };
  const add = (items: typeof contains) => {
    for (const c of items) {
      if (c.code) {
        expansion.codes.add(c.code);
        expansion.codings.add(`${c.system}|${c.code}`);
      }
      add(c.contains ?? []);
    }
  };
  add(contains);
  return expansion;
}

function composeCodes(registry: Registry, valueSet: ValueSet): Expansion | undefined {
  const compose = valueSet.compose;
  if (!compose?.include.length) return undefined;
  const expansion: Expansion = { codes: new Set(), codings: new Set() };
  for (const include of compose.include) {
    const part = includeCodes(registry, include);
    if (!part) return undefined;
    for (const c of part.codings) expansion.codings.add(c);
    for (const c of part.codes) expansion.codes.add(c);
  }
  for (const exclude of compose.exclude ?? []) {
    const part = includeCodes(registry, exclude);
    if (!part) return undefined;
    for (const c of part.codings) expansion.codings.delete(c);
  }
  expansion.codes = new Set([...expansion.codings].map((c) => c.slice(c.lastIndexOf('|') + 1)));
  return expansion;
}

function includeCodes(registry: Registry, include: ValueSetComposeInclude): Expansion | undefined {
  let result: Expansion | undefined;
  if (include.system) {
    const codes = systemCodes(registry, include);
    if (!codes) return undefined;
    result = { codes: new Set(codes), codings: new Set(codes.map((c) => `${include.system}|${c}`)) };
  }
  for (const other of include.valueSet ?? []) {
    const imported = valueSetCodes(registry, other);
    if (!imported) return undefined;
    // Several imports intersect, and with the system's codes too (valueset.html#compose).
    result = result
      ? { codes: new Set([...result.codes].filter((c) => imported.codes.has(c))), codings: new Set([...result.codings].filter((c) => imported.codings.has(c))) }
      : imported;
  }
  return result;
}

function systemCodes(registry: Registry, include: ValueSetComposeInclude): string[] | undefined {
  if (include.concept?.length && !include.filter?.length) return include.concept.map((c) => c.code as string);
  const system = registry.resolve<CodeSystem>('CodeSystem', include.system as string)?.resource;
  if (system?.content !== 'complete') return undefined;
  const concepts = system.concept ?? [];
  if (!include.filter?.length) return allCodes(concepts);
  let codes: string[] | undefined = allCodes(concepts);
  for (const filter of include.filter) {
    if (filter.property !== 'concept' || !['is-a', 'descendent-of'].includes(filter.op as string)) return undefined;
    const root = findConcept(concepts, filter.value as string);
    if (!root) return [];
    const under = allCodes(root.concept ?? []);
    const allowed = new Set(filter.op === 'is-a' ? [root.code, ...under] : under);
    codes = codes.filter((c) => allowed.has(c));
  }
  return codes;
}

function allCodes(concepts: CodeSystemConcept[]): string[] {
  return concepts.flatMap((c) => [c.code as string, ...allCodes(c.concept ?? [])]);
}

function findConcept(concepts: CodeSystemConcept[], code: string): CodeSystemConcept | undefined {
  for (const c of concepts) {
    if (c.code === code) return c;
    const found = findConcept(c.concept ?? [], code);
    if (found) return found;
  }
  return undefined;
}
