import { randomUUID } from 'node:crypto';
import type { Resource } from '@medplum/fhirtypes';
import { inTransaction, type Context, type FhirRequest, type FhirResponse } from './context.js';
import { findSingleMatch } from './conditional.js';
import { checkResourceBody, persist, writeResponse } from './write.js';
import { enforceConformance } from '../validation/conformance.js';
import { parseExact } from '../fhir/exact-json.js';

/** POST [type], with If-None-Exist for a conditional create. The server assigns the id. */
export async function create(ctx: Context, req: FhirRequest, type: string): Promise<FhirResponse> {
  const resource = checkResourceBody(type, req.body);
  return inTransaction(ctx, async (tx) => {
    if (req.ifNoneExist) {
      const existing = await findSingleMatch(ctx, tx, type, new URLSearchParams(req.ifNoneExist));
      if (existing) {
        // The spec: the server ignores the post and answers 200 with the match.
        return {
          status: 200,
          resource: parseExact(existing.content as string) as Resource,
          version: existing.version,
          lastUpdated: existing.lastUpdated,
          location: `${ctx.fhirBase}/${type}/${existing.id}/_history/${existing.version}`,
        };
      }
    }
    await enforceConformance(ctx.db, tx, ctx.fhirBase, resource);
    return writeResponse(ctx, 201, await persist(ctx, tx, undefined, { type, id: req.assignedId ?? randomUUID() }, resource, 'POST'));
  });
}
