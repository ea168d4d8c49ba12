import type { Command } from 'commander';
import { loadConfig } from '../server/config.js';
import { createLogger } from '../server/logger.js';
import { openDatabase } from '../server/main.js';
import { installTerminology } from '../server/operations/terminology-install.js';
import { migrate } from '../server/store/migrate.js';
import { readRelease } from '../server/terminology/release.js';

/**
 * `maillage terminology import <path>`: installs a newer official ANS release of NOS code systems
 * and value sets (a FHIR package, .tgz or folder; a JSON file or a folder of them). Those the
 * database holds in the same or a newer version are left, but for Maillage's own transcriptions,
 * which an official release of the same version replaces.
 */
export function addTerminologyCommands(program: Command): void {
  program
    .command('terminology')
    .description('the NOS code systems and value sets')
    .command('import <path>')
    .description('install the CodeSystem and ValueSet resources of an official release (a FHIR package, .tgz or folder; JSON files) where newer')
    .action(async (path: string) => {
      const resources = readRelease(path);
      const config = loadConfig();
      const db = await openDatabase(config);
      try {
        await migrate(db);
        const written = await installTerminology(db, config.origin, createLogger(config.logLevel), resources);
        for (const r of written) console.log(`${r.resourceType} ${r.url}|${r.version ?? ''}`);
        console.log(`Installed ${written.length} of ${resources.length} code systems and value sets (the others are held in that version or a newer one)`);
      } finally {
        await db.close();
      }
    });
}
