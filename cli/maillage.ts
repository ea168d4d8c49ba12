#!/usr/bin/env -S node --max-semi-space-size=32
// A young generation of 32 MB (V8's default: 16): under load, what a request keeps a little
// longer (the queued AuditEvents) died young instead of filling the old generation, whose
// collections took a tenth of the server's time with the access rules on (bench/RESULTS.md).
import { Presets, SingleBar } from 'cli-progress';
import { Command } from 'commander';
import type { Logger } from 'pino';
import { addTerminologyCommands } from './terminology.js';
import { addUserCommands } from './user.js';
import { addPackageCommands } from './packages.js';
import { addImportCommand } from './import.js';
import { fhirBaseOf, loadConfig, type Config } from '../server/config.js';
import { createLogger } from '../server/logger.js';
import { openDatabase, startServer } from '../server/main.js';
import { buildDemo, startOfDay } from '../seed/demo/index.js';
import { formatDemoCredentials } from '../seed/demo/users.js';
import { streamTerritory } from '../seed/stream.js';
import type { Database } from '../server/store/db.js';
import { DEMO, loadResources } from '../seed/load.js';
import { reindex } from '../server/search/reindex.js';
import { isResourceType } from '../server/validation/registry.js';
import { migrate } from '../server/store/migrate.js';
import { VERSION } from '../server/version.js';

const program = new Command('maillage').version(VERSION).description('Maillage FHIR R4 server');

program
  .command('serve')
  .description('serve the FHIR API (what npm start runs)')
  .action(async () => {
    const config = loadConfig();
    const logger = createLogger(config.logLevel);
    const running = await startServer(config, logger, { demo: DEMO });
    if (running.demoLogins) console.log(formatDemoCredentials(running.demoLogins));
    const shutdown = (signal: string) => {
      logger.info({ signal }, 'shutting down: finishing in-flight requests');
      // A request that never ends must not keep the process alive forever.
      setTimeout(() => process.exit(1), 15_000).unref();
      void running.close().then(() => process.exit(0));
    };
    process.once('SIGTERM', () => shutdown('SIGTERM'));
    process.once('SIGINT', () => shutdown('SIGINT'));
  });

program
  .command('migrate')
  .description('create or upgrade the database schema, then exit')
  .action(() =>
    withDatabase(async (_db, _config, _logger, applied) => {
      console.log(applied.length ? `Applied migrations ${applied.join(', ')}` : 'Schema is up to date');
    }),
  );

program
  .command('seed')
  .description('load the demo pôle (--demo), or a generated territory of N patients (--patients N)')
  .option('--demo', 'the demo pôle de santé of the Val-de-Lys (again: its resources get a new version dated today)')
  .option('--patients <n>', 'a synthetic territory with this many patients and their pathways', (v) => Number(v))
  .option('--seed <n>', 'seed number of the generator: the same seed gives the same data', (v) => Number(v), 1)
  .action(async (opts: { demo?: boolean; patients?: number; seed: number }) => {
    if (!opts.demo && !opts.patients) throw new Error('Say what to load: --demo or --patients N');
    if (opts.patients !== undefined && !(Number.isInteger(opts.patients) && opts.patients > 0)) throw new Error('--patients takes a positive integer');
    await withDatabase(async (db, config, logger) => {
      if (opts.demo) {
        const resources = buildDemo();
        const started = Date.now();
        await loadResources(db, config.origin, logger, resources);
        console.log(`Loaded ${resources.length} resources of the demo pôle in ${((Date.now() - started) / 1000).toFixed(1)} s`);
      }
      if (opts.patients) {
        const total = opts.patients;
        // The bar on a terminal; lines elsewhere (cli-progress draws nothing without a TTY).
        const bar = process.stderr.isTTY
          ? new SingleBar({ format: 'patients {bar} {value}/{total} | {percentage}% | ETA {eta_formatted}' }, Presets.shades_classic)
          : undefined;
        bar?.start(total, 0);
        const lines = progress('patients');
        const result = await streamTerritory(db, config.origin, logger, { patients: total, seed: opts.seed, today: startOfDay(new Date()) }, (n) =>
          bar ? bar.update(n) : lines({ done: n, total }),
        );
        bar?.stop();
        console.log(
          `Loaded ${result.resources} resources (${result.patients} patients) in ${result.seconds.toFixed(1)} s: ${Math.round(result.resources / result.seconds)} resources/s`,
        );
      }
    });
  });

program
  .command('reindex')
  .description('rebuild the search index with the SearchParameters in force, with progress')
  .option('--type <type>', 'only resources of this type')
  .action((opts: { type?: string }) => {
    if (opts.type && !isResourceType(opts.type)) throw new Error(`Unknown resource type: ${opts.type} (FHIR R4 names, e.g. Patient)`);
    return withDatabase(async (db, config) => {
      const count = await reindex(db, fhirBaseOf(config.origin), opts.type, progress('reindexed'));
      console.log(`Reindexed ${count} resources`);
    });
  });

/**
 * Progress on standard error: one line rewritten in place on a terminal; elsewhere (a log, a pipe)
 * a line at each tenth, so that the log reads as lines.
 */
function progress(label: string) {
  let shown = -1;
  return ({ done, total }: { done: number; total: number }) => {
    const percent = Math.round((100 * done) / Math.max(total, 1));
    if (process.stderr.isTTY) {
      process.stderr.write(`\r${label} ${done}/${total} (${percent}%)${done >= total ? '\n' : ''}`);
    } else if (Math.floor(percent / 10) > shown || done >= total) {
      shown = Math.floor(percent / 10);
      process.stderr.write(`${label} ${done}/${total} (${percent}%)\n`);
    }
  };
}

/** Opens the configured database with an up-to-date schema for a command, and closes it after. */
async function withDatabase(fn: (db: Database, config: Config, logger: Logger, applied: number[]) => Promise<void>): Promise<void> {
  const config = loadConfig();
  const logger = createLogger(config.logLevel);
  const db = await openDatabase(config);
  try {
    await fn(db, config, logger, await migrate(db));
  } finally {
    await db.close();
  }
}

addUserCommands(program);
addTerminologyCommands(program);
addPackageCommands(program);
addImportCommand(program);

program.parseAsync().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
