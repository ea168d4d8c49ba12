import type { Queryable } from '../store/db.js';
import { codesWithText, hierarchyCodes, valueSetCodings } from '../terminology/api.js';
import type { Filter } from './parse.js';
import { splitBar, unescape } from './values.js';

/** The token modifiers whose values the terminology turns into codes. */
export const TERMINOLOGY_MODIFIERS = new Set(['in', 'not-in', 'above', 'below', 'text']);

/**
 * The filters with the codes of their terminology modifiers: the codes of the value set for
 * `:in` and `:not-in`, the code and those below or above it in its code system for `:below` and
 * `:above` (a code without system, or of a code system not held, stands for itself), the codes
 * whose display has the words of `:text`. Chained and `_has` criteria are resolved too.
 */
export async function withTerminologyCodes(q: Queryable, filters: Filter[]): Promise<Filter[]> {
  return Promise.all(
    filters.map(async (f): Promise<Filter> => {
      if (f.kind === 'chain' || f.kind === 'has') return { ...f, next: (await withTerminologyCodes(q, [f.next]))[0] };
      if (f.kind !== 'param' || f.param.type !== 'token' || !TERMINOLOGY_MODIFIERS.has(f.modifier ?? '')) return f;
      const codes = await Promise.all(f.values.map((v) => codesOf(q, f.modifier as string, v)));
      return { ...f, codes: codes.flat() };
    }),
  );
}

async function codesOf(q: Queryable, modifier: string, value: string): Promise<{ system?: string; code: string }[]> {
  if (modifier === 'in' || modifier === 'not-in') return valueSetCodings(q, unescape(value));
  if (modifier === 'text') return codesWithText(q, unescape(value));
  const [system, code] = splitBar(value);
  if (!system) return [{ code }];
  return (await hierarchyCodes(q, system, code, modifier as 'above' | 'below')).map((c) => ({ system, code: c }));
}
