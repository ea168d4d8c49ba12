import type { Logger } from 'pino';
import type { Database } from '../store/db.js';
import { readPolicy, setPolicy } from '../validation/policy.js';
import { syncRegistry } from '../validation/registry-sync.js';
import { readPackage } from './files.js';
import { installPackage } from './install.js';
import { BUNDLED_PACKAGES, enforcementFile } from './settings.js';

/**
 * At start: Maillage's profiles and SearchParameters (profiles/package/) and the SAS ones
 * (profiles/sas/) into the database (a no-op
 * when they are there already: their generated snapshots are stored with them), and the
 * enforcement policy in force.
 */
export async function loadProfiles(db: Database, fhirBase: string, log: Logger): Promise<void> {
  const started = Date.now();
  let written = 0;
  for (const dir of BUNDLED_PACKAGES) {
    const report = await installPackage(db, fhirBase, log, readPackage(dir), {});
    written += report.packages.reduce((n, p) => n + p.written, 0);
  }
  setPolicy(db, readPolicy(enforcementFile()));
  await syncRegistry(db);
  log.info({ written, ms: Date.now() - started }, "Maillage's profiles in force");
}
