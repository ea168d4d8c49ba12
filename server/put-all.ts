import type { Resource } from '@medplum/fhirtypes';
import type { Logger } from 'pino';
import { fhirBaseOf } from './config.js';
import type { Database, Queryable } from './store/db.js';
import type { Context } from './interactions/context.js';
import { dispatch } from './routes.js';

/**
 * PUTs each resource with its id through the server's own write path (validation, history,
 * index), as the server itself, in the transaction `tx`. `testIdentities`: INS on the test and
 * demo OIDs are accepted (generated data).
 */
export async function putAll(
  db: Database,
  tx: Queryable,
  origin: string,
  log: Logger,
  resources: Resource[],
  o: { testIdentities?: boolean } = {},
): Promise<void> {
  const ctx: Context = { db, tx, origin, fhirBase: fhirBaseOf(origin), log, authEnabled: false, testIdentities: o.testIdentities ?? false };
  for (const resource of resources) {
    await dispatch(ctx, { method: 'PUT', path: [resource.resourceType, resource.id as string], query: new URLSearchParams(), prefer: {}, body: resource });
  }
}
