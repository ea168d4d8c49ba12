import type { Resource } from '@medplum/fhirtypes';
import type { Logger } from 'pino';
import type { Context } from '../server/interactions/context.js';
import { dispatch } from '../server/routes.js';
import type { Database, Queryable } from '../server/store/db.js';
import { buildDemo } from './demo/index.js';

// Any constant: it keeps two processes starting on an empty database from both seeding it.
const SEED_LOCK = 4_271_830;

/** PUTs each resource with its id through the server's own write path (validation, history, index). */
export async function putAll(db: Database, tx: Queryable, baseUrl: string, log: Logger, resources: Resource[]): Promise<void> {
  // The demo and the synthetic territories carry INS on the demo OID.
  const ctx: Context = { db, tx, baseUrl: `${baseUrl}/fhir`, log, authEnabled: false, testIdentities: true };
  for (const resource of resources) {
    await dispatch(ctx, { method: 'PUT', path: [resource.resourceType, resource.id as string], query: new URLSearchParams(), prefer: {}, body: resource });
  }
}

/** Writes resources in one transaction: all of them or none. */
export async function loadResources(db: Database, baseUrl: string, log: Logger, resources: Resource[]): Promise<void> {
  await db.transaction((tx) => putAll(db, tx, baseUrl, log, resources));
}

/** Loads the demo pôle when the database holds no resource yet; returns how many were written. */
export async function seedDemoIfEmpty(db: Database, baseUrl: string, log: Logger): Promise<number> {
  return db.transaction(async (tx) => {
    await tx.query('SELECT pg_advisory_xact_lock($1)', [SEED_LOCK]);
    if ((await tx.query('SELECT 1 FROM resource LIMIT 1')).length) return 0;
    const resources = buildDemo();
    await putAll(db, tx, baseUrl, log, resources);
    return resources.length;
  });
}
