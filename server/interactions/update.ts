import { randomUUID } from 'node:crypto';
import { badRequest, conflict } from '../fhir/outcome.js';
import { readCurrent } from '../store/resources.js';
import { inTransaction, type Context, type FhirRequest, type FhirResponse } from './context.js';
import { findSingleMatch } from './conditional.js';
import { checkIfMatch } from './versioning.js';
import { checkResourceBody, persist, writeResponse } from './write.js';
import { enforceConformance } from '../validation/conformance.js';

/** PUT [type]/[id]: update, or create with the client's id (update-as-create). */
export async function update(ctx: Context, req: FhirRequest, type: string, id: string): Promise<FhirResponse> {
  const resource = checkResourceBody(type, req.body);
  if (resource.id === undefined) throw badRequest('The resource must carry its id in an update', ['id']);
  if (resource.id !== id) throw badRequest(`The resource id (${resource.id}) does not match the URL (${id})`, ['id']);
  return inTransaction(ctx, async (tx) => {
    const current = await readCurrent(tx, type, id, true);
    checkIfMatch(req, current);
    await enforceConformance(ctx.db, tx, ctx.fhirBase, resource);
    const written = await persist(ctx, tx, current, { type, id }, resource, 'PUT');
    return writeResponse(ctx, current && !current.deleted ? 200 : 201, written);
  });
}

/** PUT [type]?criteria: update the one match, or create when none matches. */
export async function conditionalUpdate(ctx: Context, req: FhirRequest, type: string): Promise<FhirResponse> {
  const resource = checkResourceBody(type, req.body);
  return inTransaction(ctx, async (tx) => {
    const match = await findSingleMatch(ctx, tx, type, req.query);
    if (match && resource.id !== undefined && resource.id !== match.id) {
      throw badRequest(`The resource id (${resource.id}) is not that of the match (${match.id})`, ['id']);
    }
    const id = match?.id ?? resource.id ?? req.assignedId ?? randomUUID();
    const current = await readCurrent(tx, type, id, true);
    if (!match && current && !current.deleted) {
      throw conflict(`${type}/${id} exists but does not match the criteria`);
    }
    checkIfMatch(req, current);
    await enforceConformance(ctx.db, tx, ctx.fhirBase, resource);
    const written = await persist(ctx, tx, current, { type, id }, resource, 'PUT');
    return writeResponse(ctx, current && !current.deleted ? 200 : 201, written);
  });
}
