import type { Resource } from '@medplum/fhirtypes';
import type { Logger } from 'pino';
import { putAll } from '../server/put-all.js';
import type { Demo } from '../server/main.js';
import type { Database } from '../server/store/db.js';
import { buildDemo } from './demo/index.js';
import { resetDemoUsers } from './demo/users.js';

// Any constant: it keeps two processes starting on an empty database from both seeding it.
const SEED_LOCK = 4_271_830;

/** The demo and the synthetic territories carry INS on the demo OID. */
export const GENERATED = { testIdentities: true };

/** Writes resources in one transaction: all of them or none. */
export async function loadResources(db: Database, origin: string, log: Logger, resources: Resource[]): Promise<void> {
  await db.transaction((tx) => putAll(db, tx, origin, log, resources, GENERATED));
}

/** Loads the demo pôle when the database holds no resource yet; returns how many were written. */
export async function seedDemoIfEmpty(db: Database, origin: string, log: Logger): Promise<number> {
  return db.transaction(async (tx) => {
    await tx.query('SELECT pg_advisory_xact_lock($1)', [SEED_LOCK]);
    if ((await tx.query('SELECT 1 FROM resource LIMIT 1')).length) return 0;
    const resources = buildDemo();
    await putAll(db, tx, origin, log, resources, GENERATED);
    return resources.length;
  });
}

/** The demo pôle as the server loads it at start with SEED=demo. */
export const DEMO: Demo = { loadIfEmpty: seedDemoIfEmpty, resetLogins: resetDemoUsers };
