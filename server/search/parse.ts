import { badRequest, fail } from '../fhir/outcome.js';
import { beyondLimit, limits } from '../limits.js';
import { isResourceType, resourceTypes } from '../validation/registry.js';
import { compartmentParams } from './compartments.js';
import { checkFilter, modifiersOf } from './kinds/index.js';
import type { Criterion } from './kinds/kind.js';
import { FULL_TEXT_PARAMS, RESOURCE_COLUMN_PARAMS, searchParam, type SearchParam } from './parameters.js';
import { splitValues } from './values.js';

/**
 * One criterion of a search; the criteria of a request are ANDed.
 * - param: a parameter on the resources searched, its values ORed; `codes` are what the values of
 *   a terminology modifier (`:in`, `:not-in`, `:above`, `:below`) stand for, found when the search
 *   runs (a code without system matches in any system);
 * - chain: a reference parameter whose targets must match `next` (`subject:Patient.name=…`);
 * - has: resources of `type` whose reference `param` points here must match `next` (`_has:…`);
 * - compartment: the resource is in the compartment of `target` (`Patient/[id]/CarePlan`).
 */
export type Filter =
  | ({ kind: 'param' } & Criterion)
  | { kind: 'chain'; param: SearchParam; targets: string[]; next: Filter }
  | { kind: 'has'; type: string; param: SearchParam; next: Filter }
  | { kind: 'compartment'; params: string[]; target: CompartmentTarget };

/**
 * The compartment searched in; `alone`: the token is confined to it, so that what names another
 * patient too is out of it (the audit trail's events name several patients).
 */
export interface CompartmentTarget {
  type: string;
  id: string;
  alone?: boolean;
}

/** `_include` (forward) or `_revinclude` (reverse): `type:param[:target]`; param undefined is `*`. */
export interface Include {
  reverse: boolean;
  iterate: boolean;
  type?: string;
  param?: string;
  target?: string;
}

export interface SortKey {
  param: SearchParam;
  desc: boolean;
}

export type Summary = 'true' | 'text' | 'data' | 'count' | 'false';

export interface SearchRequest {
  types: string[];
  filters: Filter[];
  sort: SortKey[];
  include: Include[];
  summary?: Summary;
  elements?: string[];
  count: number;
  /** Opaque paging position from a `next` or `previous` link. */
  cursor?: string;
  /**
   * `page`, the default: given when the first page holds every match, left out otherwise (counting
   * may walk a whole type); `_count=0` and `_summary=count` count.
   */
  total: 'none' | 'estimate' | 'accurate' | 'page';
  /** Parameters applied, as [name, value], for the self link. */
  applied: [string, string][];
  /** Parameters the server did not understand and ignored (lenient handling). */
  ignored: string[];
}

export const DEFAULT_COUNT = 20;

/** What a kind of storage cannot search on that the engine parses: why not, or undefined when it can. */
export interface SearchSupport {
  filter(f: Filter): string | undefined;
  include(i: Include): string | undefined;
  sort(code: string): string | undefined;
}

/**
 * The kinds of storage searches run on (stores/), as parsing asks them: why a type is kept apart
 * from the resource tables (searched on its own, never with other types nor through their _has or
 * _revinclude), and what the one a search of `types` runs on cannot search on.
 */
export interface Storages {
  apart(type: string): string | undefined;
  support(types: string[]): SearchSupport | undefined;
}

/** Result and format parameters handled apart from the criteria. */
const CONTROL = new Set(['_count', '_cursor', '_total', '_format', '_pretty', '_sort', '_summary', '_elements']);
const INCLUDES = new Set(['_include', '_revinclude', '_include:iterate', '_revinclude:iterate', '_include:recurse', '_revinclude:recurse']);
const SUMMARIES = new Set(['true', 'text', 'data', 'count', 'false']);

/** A parameter this server does not know or cannot apply: ignored, or 400 under strict handling. */
class Unsupported extends Error {}

/** A modifier the parameter does not take: always a 400 (R4 search.html: servers SHALL reject them). */
const badModifier = (msg: string) => fail(400, 'not-supported', msg);

/**
 * Reads a search request (`types` empty for a system search; `compartment` for
 * `Patient/[id]/[type]`) on the `storages` it will run on. Unknown parameters are errors under
 * `strict` handling, else ignored and reported; unsupported modifiers, malformed values and
 * requests beyond the limits (limits.ts) are always 400s: a search silently widened would answer
 * what was not asked.
 */
export function parseSearch(types: string[], query: URLSearchParams, strict: boolean, storages: Storages, compartment?: CompartmentTarget): SearchRequest {
  checkSize(query);
  const req: SearchRequest = { types, filters: [], sort: [], include: [], count: DEFAULT_COUNT, total: 'page', applied: [], ignored: [] };
  const skip = (name: string, why: string) => {
    if (strict) throw badRequest(`Unknown or unsupported search parameter ${name}: ${why}`);
    req.ignored.push(`${name} (${why})`);
  };
  if (query.has('_type')) {
    const listed = valueList(
      '_type',
      query.getAll('_type').flatMap((v) => v.split(',')),
    );
    for (const t of listed) if (!isResourceType(t)) throw badRequest(`Unknown resource type in _type: ${t}`);
    req.types = types.length ? types.filter((t) => listed.includes(t)) : listed;
    const apart = req.types.length > 1 ? req.types.find((t) => storages.apart(t)) : undefined;
    if (apart) throw badRequest(`${apart} is searched on its own: ${storages.apart(apart)}`);
    req.applied.push(['_type', listed.join(',')]);
  }
  const support = storages.support(req.types);
  if (compartment) {
    const f = compartmentFilter(req.types, compartment);
    const why = support?.filter(f);
    if (why) throw badRequest(why);
    req.filters.push(f);
  }
  for (const [name, value] of query) {
    if (name === '_type') continue;
    const criterion = !CONTROL.has(name) && !INCLUDES.has(name);
    try {
      if (!criterion) readControl(req, name, value, storages, support);
      else req.filters.push(applicable(support, parseFilter(req.types, name, valueList(name, splitValues(value)), storages)));
      if (name !== '_cursor' && name !== '_format' && name !== '_pretty') req.applied.push([name, value]);
    } catch (err) {
      if (err instanceof Unsupported) skip(name, err.message);
      else throw err;
    }
  }
  if (req.summary === 'count') {
    req.count = 0;
    req.total = 'accurate';
  }
  if (req.count === 0 && req.total === 'page') req.total = 'accurate';
  return req;
}

/**
 * Refuses, before any parsing, a search with too many parameters, one repeated too often, or a
 * value too long: each repeat and each value is SQL to plan and run.
 */
function checkSize(query: URLSearchParams): void {
  const { searchParameters, parameterRepeats, valueLength } = limits();
  const repeats = new Map<string, number>();
  let n = 0;
  for (const [name, value] of query) {
    if (++n > searchParameters) throw beyondLimit('searchParameters', 'Too many search parameters');
    const times = (repeats.get(name) ?? 0) + 1;
    if (times > parameterRepeats) throw beyondLimit('parameterRepeats', `Parameter ${name} repeated too often`);
    repeats.set(name, times);
    if (value.length > valueLength || name.length > valueLength) throw beyondLimit('valueLength', `The value of ${name.slice(0, 64)} is too long`);
  }
}

/** The values of one comma-separated list, within the limit. */
function valueList<T>(name: string, values: T[]): T[] {
  if (values.length > limits().values) throw beyondLimit('values', `Too many values in ${name}`);
  return values;
}

/** The filter, if the storage searched can apply it. */
function applicable(support: SearchSupport | undefined, f: Filter): Filter {
  const why = support?.filter(f);
  if (why) throw new Unsupported(why);
  return f;
}

/** A parameter name with its modifier, chain and _has parts, on the given types (`depth`: steps taken). */
function parseFilter(types: string[], name: string, values: string[], storages: Storages, depth = 0): Filter {
  if ((name.startsWith('_has:') || name.includes('.')) && depth >= limits().depth) {
    throw beyondLimit('depth', 'Chains and _has nested too deep');
  }
  if (name.startsWith('_has:')) {
    const [, type, code, ...rest] = name.split(':');
    if (!type || !code || !rest.length) throw badRequest(`_has takes _has:Type:reference:parameter: ${name}`);
    if (!isResourceType(type)) throw new Unsupported(`unknown resource type ${type}`);
    const apart = storages.apart(type);
    if (apart) throw new Unsupported(`${apart}: search ${type} itself`);
    const param = searchParam(type, code);
    if (param?.type !== 'reference') throw new Unsupported(`${type}.${code} is not a reference parameter`);
    return { kind: 'has', type, param, next: parseFilter([type], rest.join(':'), values, storages, depth + 1) };
  }
  const dot = name.indexOf('.');
  const head = dot > 0 ? name.slice(0, dot) : name;
  const [code, modifier, ...extra] = head.split(':');
  if (extra.length) throw badModifier(`${name}: more than one modifier`);
  const param = commonParam(types, code);
  if (dot > 0) {
    if (param.type !== 'reference') throw badRequest(`${code} is not a reference parameter and cannot be chained`);
    const tail = name.slice(dot + 1);
    const nextCode = tail.split(/[:.]/)[0];
    const targets = referenceTargets(param, modifier).filter((t) => nextCode.startsWith('_has') || searchParam(t, nextCode));
    if (!targets.length) throw new Unsupported(`no target of ${code} has a parameter ${nextCode}`);
    return { kind: 'chain', param, targets, next: parseFilter(targets, tail, values, storages, depth + 1) };
  }
  const supported = modifiersOf(param.type);
  if (!supported || !(param.atom || RESOURCE_COLUMN_PARAMS.has(param.code) || FULL_TEXT_PARAMS.has(param.code))) {
    throw new Unsupported(`${param.type} parameters are not supported`);
  }
  const typeModifier = param.type === 'reference' && modifier !== undefined && isResourceType(modifier);
  if (modifier !== undefined && !supported.includes(modifier) && !typeModifier) {
    throw badModifier(`${code}: modifier :${modifier} is not supported on ${param.type} parameters`);
  }
  if (typeModifier) referenceTargets(param, modifier);
  const filter: Filter = { kind: 'param', param, modifier, values };
  checkFilter(filter);
  return filter;
}

/**
 * The parameter a code names on every type searched; it must have the same type on each (as
 * `name` on Patient and Practitioner, two definitions that are searched alike).
 */
function commonParam(types: string[], code: string): SearchParam {
  const params = (types.length ? types : resourceTypes()).map((t) => searchParam(t, code));
  const param = params[0];
  if (!param || params.some((p) => !p || p.type !== param.type)) {
    throw new Unsupported(types.length === 1 ? `not defined for ${types[0]}` : 'not common to the types searched');
  }
  return param;
}

/** The types a reference parameter may point to, narrowed by a `:[type]` modifier. */
function referenceTargets(param: SearchParam, modifier: string | undefined): string[] {
  if (modifier === undefined) return param.target.length ? param.target : [...resourceTypes()];
  if (!isResourceType(modifier) || (param.target.length && !param.target.includes(modifier))) {
    throw badModifier(`${param.code}: modifier :${modifier} is not a target type of the parameter`);
  }
  return [modifier];
}

function compartmentFilter(types: string[], target: CompartmentTarget): Filter {
  const params = compartmentParams(target.type, types[0]);
  if (types.length !== 1 || !params) throw badRequest(`${types.join(',')} is not in the ${target.type} compartment`);
  return { kind: 'compartment', params, target };
}

function parseInclude(name: string, value: string): Include {
  const reverse = name.startsWith('_revinclude');
  const iterate = name.endsWith(':iterate') || name.endsWith(':recurse');
  if (value === '*') return { reverse, iterate };
  const [type, code, target, ...extra] = value.split(':');
  if (!code || extra.length) throw badRequest(`${name} takes Type:parameter[:targetType]: ${value}`);
  if (!isResourceType(type)) throw new Unsupported(`unknown resource type ${type}`);
  if (code === '*') return { reverse, iterate, type };
  if (searchParam(type, code)?.type !== 'reference') throw new Unsupported(`${type}.${code} is not a reference parameter`);
  if (target !== undefined && !isResourceType(target)) throw new Unsupported(`unknown resource type ${target}`);
  return { reverse, iterate, type, param: code, target };
}

function readControl(req: SearchRequest, name: string, value: string, storages: Storages, support: SearchSupport | undefined): void {
  if (INCLUDES.has(name)) {
    const specs = valueList(name, value.split(',')).map((v) => parseInclude(name, v));
    if (req.include.length + specs.length > limits().includes) throw beyondLimit('includes', 'Too many _include and _revinclude');
    for (const spec of specs) {
      const why = support ? support.include(spec) : spec.reverse && spec.type ? storages.apart(spec.type) : undefined;
      if (why) throw new Unsupported(why);
    }
    req.include.push(...specs);
    return;
  }
  switch (name) {
    case '_count': {
      const n = Number(value);
      if (!/^\d+$/.test(value)) throw badRequest(`_count must be a non-negative integer: ${value}`);
      req.count = Math.min(n, limits().count);
      break;
    }
    case '_cursor':
      req.cursor = value;
      break;
    case '_total':
      if (value !== 'none' && value !== 'estimate' && value !== 'accurate') throw badRequest(`_total must be none, estimate or accurate`);
      req.total = value;
      break;
    case '_sort':
      if (value.split(',').length > limits().sortKeys) throw beyondLimit('sortKeys', 'Too many _sort keys');
      req.sort = value.split(',').map((key) => {
        const desc = key.startsWith('-');
        const param = commonParam(req.types, desc ? key.slice(1) : key);
        const why = support?.sort(param.code);
        if (why) throw new Unsupported(why);
        if (param.type === 'composite' || param.type === 'special' || FULL_TEXT_PARAMS.has(param.code)) {
          throw new Unsupported(`cannot sort on ${param.type} parameter ${param.code}`);
        }
        return { param, desc };
      });
      break;
    case '_summary':
      if (!SUMMARIES.has(value)) throw badRequest(`_summary must be true, text, data, count or false: ${value}`);
      req.summary = value as Summary;
      break;
    case '_elements':
      req.elements = valueList(name, value.split(','))
        .map((e) => e.trim())
        .filter(Boolean);
      break;
    default:
      break; // _format and _pretty are the HTTP layer's
  }
}

/** Whether this engine can search on the parameter (what /metadata advertises). */
export function isSupportedParam(param: SearchParam): boolean {
  return (
    RESOURCE_COLUMN_PARAMS.has(param.code) ||
    FULL_TEXT_PARAMS.has(param.code) ||
    (!!param.atom && !!modifiersOf(param.type) && (param.type !== 'composite' || !!param.components))
  );
}
