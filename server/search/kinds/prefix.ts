/** The comparison prefixes of ordered values (dates, numbers, quantities), R4 search.html#prefix. */
export const PREFIXES = ['eq', 'ne', 'gt', 'lt', 'ge', 'le', 'sa', 'eb', 'ap'] as const;
export type Prefix = (typeof PREFIXES)[number];

/** A value's prefix (`eq` when it has none) and the rest of it. */
export function splitPrefix(value: string): [Prefix, string] {
  const p = value.slice(0, 2) as Prefix;
  return PREFIXES.includes(p) && /^[a-z]{2}[-+0-9.]/.test(value) ? [p, value.slice(2)] : ['eq', value];
}
