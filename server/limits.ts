import { fail, type FhirError } from './fhir/outcome.js';

/**
 * What one request may ask for: bounds that keep any single caller from holding the event loop or
 * the database (issue #21). Each is a setting (config.ts); a request beyond one is refused with
 * 400 (413 for Bundle entries), naming the limit and its setting.
 */
export interface RequestLimits {
  /** Parameters in one search (criteria and result parameters). */
  searchParameters: number;
  /** Times one parameter name may be repeated (each repeat is ANDed: one more join). */
  parameterRepeats: number;
  /** Values in one comma-separated list (ORed), `_include` and `_sort` lists included. */
  values: number;
  /** Characters in one parameter's value. */
  valueLength: number;
  /** Steps of chains and `_has` in one parameter. */
  depth: number;
  /** `_include` and `_revinclude` given in one search. */
  includes: number;
  /** Keys of `_sort`. */
  sortKeys: number;
  /** Largest `_count` (a larger one is lowered to it, as R4 allows). */
  count: number;
  /** Entries of a batch or transaction Bundle. */
  bundleEntries: number;
  /** Subscriptions one client and user may have: each is matched against every write. */
  subscriptionsPerOwner: number;
}

/** The settings' names, to tell a refused caller (and an operator) which bound they met. */
export const LIMIT_SETTINGS: Record<keyof RequestLimits, string> = {
  searchParameters: 'SEARCH_MAX_PARAMETERS',
  parameterRepeats: 'SEARCH_MAX_REPEATS',
  values: 'SEARCH_MAX_VALUES',
  valueLength: 'SEARCH_MAX_VALUE_LENGTH',
  depth: 'SEARCH_MAX_DEPTH',
  includes: 'SEARCH_MAX_INCLUDES',
  sortKeys: 'SEARCH_MAX_SORT_KEYS',
  count: 'SEARCH_MAX_COUNT',
  bundleEntries: 'BUNDLE_MAX_ENTRIES',
  subscriptionsPerOwner: 'SUBSCRIPTIONS_PER_OWNER',
};

export const DEFAULT_LIMITS: RequestLimits = {
  searchParameters: 40,
  parameterRepeats: 10,
  values: 100,
  valueLength: 1024,
  depth: 4,
  includes: 10,
  sortKeys: 5,
  count: 1000,
  bundleEntries: 10_000,
  subscriptionsPerOwner: 1000,
};

/** The limits in force: set once at start from the configuration (the default until then). */
let current = DEFAULT_LIMITS;

export const setRequestLimits = (limits: RequestLimits) => {
  current = limits;
};

export const limits = (): RequestLimits => current;

/**
 * The refusal of a request beyond a limit: 400 `too-costly` (`too-long` for a value's length), or
 * the status given (413 for Bundle entries).
 */
export function beyondLimit(limit: keyof RequestLimits, what: string, status = 400): FhirError {
  const code = limit === 'valueLength' ? 'too-long' : 'too-costly';
  return fail(status, code, `${what}: more than ${current[limit]} is refused (setting ${LIMIT_SETTINGS[limit]})`);
}
