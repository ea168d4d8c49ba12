import type { Bundle, Resource } from '@medplum/fhirtypes';
import type { Logger } from 'pino';
import type { Access } from '../auth/tokens.js';
import { FhirError } from '../fhir/outcome.js';
import { bodyOf, type ServerContext } from '../interactions/context.js';
import { dispatch } from '../routes.js';

/** The lookups of one HTTP request: its address goes into the audit trail with the accesses they make as a user. */
export const forRequest = (ctx: ServerContext, req: { ip?: string }): ServerContext => (req.ip ? { ...ctx, address: req.ip } : ctx);

/** The resources (matches and includes) of a search, run with no token restriction, or as `access` allows. */
export async function searchResources(ctx: ServerContext, log: Logger, type: string, query: Record<string, string>, access?: Access): Promise<Resource[]> {
  const res = await dispatch({ ...ctx, log, access }, { method: 'GET', path: [type], query: new URLSearchParams(query), prefer: {} });
  return ((bodyOf(res) as Bundle).entry ?? []).filter((e) => e.search?.mode !== 'outcome').flatMap((e) => (e.resource ? [e.resource] : []));
}

/** Whether `type/id` exists and is not deleted (and, with `access`, may be seen). */
export async function exists(ctx: ServerContext, log: Logger, type: string, id: string, access?: Access): Promise<boolean> {
  return (await searchResources(ctx, log, type, { _id: id, _count: '1', _total: 'none' }, access)).length > 0;
}

/**
 * `type/id` read as `access` may, by the rules of a FHIR read: 200 and the resource, 403 when the
 * scopes or the équipe-de-soins rules keep it out of reach, 404 or 410 when it is not there.
 */
export async function readAs(ctx: ServerContext, log: Logger, type: string, id: string, access: Access): Promise<{ status: number; resource?: Resource }> {
  try {
    const res = await dispatch({ ...ctx, log, access }, { method: 'GET', path: [type, id], query: new URLSearchParams(), prefer: {} });
    return { status: res.status, resource: bodyOf(res) as Resource };
  } catch (err) {
    if (err instanceof FhirError) return { status: err.status };
    throw err;
  }
}
