import { badRequest, preconditionFailed } from '../fhir/outcome.js';
import { syncSearchParameters } from '../search/loaded-params.js';
import { parseSearch } from '../search/parse.js';
import type { Queryable } from '../store/db.js';
import type { StoredVersion } from '../store/resources.js';
import { searchedStore, STORAGES } from '../stores/by-type.js';
import { visibilityOf } from '../access/principal.js';
import type { Context } from './context.js';

/**
 * The resources a conditional interaction's criteria select, at most two (enough to tell none, one
 * and many). Criteria are parsed strictly: an unknown parameter must never widen the match.
 * For conditional writes (`lock`), an advisory lock on the criteria serialises concurrent writers with
 * the same ones, so that two conditional creates cannot both create. Resolving a conditional
 * reference only reads, and takes no lock: many transactions name the same Practitioner.
 */
export async function findMatches(ctx: Context, tx: Queryable, type: string, criteria: URLSearchParams, lock = true): Promise<StoredVersion[]> {
  await syncSearchParameters(tx);
  const req = parseSearch([type], criteria, true, STORAGES);
  if (!req.filters.length) throw badRequest(`A conditional ${type} interaction needs search criteria`);
  req.count = 2;
  req.total = 'none';
  const key = `${type}?${[...criteria]
    .map(([k, v]) => `${k}=${v}`)
    .sort()
    .join('&')}`;
  if (lock) await tx.query('SELECT pg_advisory_xact_lock(hashtext($1))', [key]);
  // Only what the caller may see can match: a conditional write never reaches past the équipe de soins.
  return (await searchedStore(req.types).search(tx, req, ctx.fhirBase, await visibilityOf(ctx))).matches;
}

/** The one match of the criteria, undefined when none; 412 when several. */
export async function findSingleMatch(ctx: Context, tx: Queryable, type: string, criteria: URLSearchParams, lock = true): Promise<StoredVersion | undefined> {
  const matches = await findMatches(ctx, tx, type, criteria, lock);
  if (matches.length > 1) throw preconditionFailed(`More than one ${type} matches ${criteria}`);
  return matches[0];
}
