import type { Context } from './context.js';

/*
 * What other capabilities add to a search before it is parsed, whichever route runs it (type,
 * system, compartment, POST _search): the composition root (routes.ts) sets the list once, so
 * that the search interaction imports none of them.
 */

/** A search's query as another capability narrows it (itself when that capability has nothing to add). */
export type SearchRewrite = (ctx: Context, type: string | undefined, query: URLSearchParams) => URLSearchParams;

let rewrites: readonly SearchRewrite[] = [];

/** The rewrites every search runs, in this order. */
export function setSearchRewrites(list: readonly SearchRewrite[]): void {
  rewrites = list;
}

export const searchRewrites = (): readonly SearchRewrite[] => rewrites;
