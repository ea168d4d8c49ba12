import { notFound, outcome } from '../fhir/outcome.js';
import { readCurrent, type StoredVersion } from '../store/resources.js';
import type { Queryable } from '../store/db.js';
import { inTransaction, type Context, type FhirRequest, type FhirResponse } from './context.js';
import { findSingleMatch } from './conditional.js';
import { checkIfMatch } from './versioning.js';
import { persist } from './write.js';

/** DELETE [type]/[id]: writes a tombstone version; later reads get 410. Deleting twice is a no-op. */
export async function remove(ctx: Context, req: FhirRequest, type: string, id: string): Promise<FhirResponse> {
  return inTransaction(ctx, async (tx) => {
    const current = await readCurrent(tx, type, id, true);
    if (!current) throw notFound(`${type}/${id} is not known`);
    return deleteCurrent(ctx, tx, req, current);
  });
}

/** DELETE [type]?criteria: deletes the one match; none is a no-op, several a 412. */
export async function conditionalRemove(ctx: Context, req: FhirRequest, type: string): Promise<FhirResponse> {
  return inTransaction(ctx, async (tx) => {
    const match = await findSingleMatch(ctx, tx, type, req.query);
    if (!match) return { status: 204 };
    return deleteCurrent(ctx, tx, req, (await readCurrent(tx, type, match.id, true)) as StoredVersion);
  });
}

async function deleteCurrent(ctx: Context, tx: Queryable, req: FhirRequest, current: StoredVersion): Promise<FhirResponse> {
  checkIfMatch(req, current);
  if (current.deleted) return { status: 204, version: current.version, lastUpdated: current.lastUpdated };
  const { stored } = await persist(ctx, tx, current, current, null, 'DELETE');
  return {
    status: 200,
    resource: outcome('information', 'informational', `${stored.type}/${stored.id} deleted`),
    version: stored.version,
    lastUpdated: stored.lastUpdated,
  };
}
