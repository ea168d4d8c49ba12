import { createHash } from 'node:crypto';
import { createReadStream, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Presets, SingleBar } from 'cli-progress';
import type { Command } from 'commander';
import { fhirBaseOf, loadConfig } from '../server/config.js';
import { createLogger } from '../server/logger.js';
import { openDatabase } from '../server/main.js';
import { loadProfiles } from '../server/packages/profiles.js';
import { migrate } from '../server/store/migrate.js';
import { loadBaseDefinitions } from '../server/validation/registry.js';
import { ERROR_FILE, runImportJob, type ImportState } from '../server/bulk/import-job.js';
import type { ImportParams } from '../server/bulk/import-request.js';
import { createJob, fileLines, finishJob, readJob, type Job } from '../server/bulk/jobs.js';
import type { Database } from '../server/store/db.js';

/** The NDJSON files named: a folder gives its `*.ndjson` files, in name order. */
function inputFiles(paths: string[]): string[] {
  return paths.flatMap((p) => {
    const path = resolve(p);
    if (!statSync(path).isDirectory()) return [path];
    return readdirSync(path)
      .filter((f) => f.endsWith('.ndjson'))
      .sort()
      .map((f) => join(path, f));
  });
}

/** How many lines a file has (one pass over its bytes, for the progress bar). */
async function countLines(path: string): Promise<number> {
  let n = 0;
  for await (const chunk of createReadStream(path)) for (const byte of chunk as Buffer) if (byte === 10) n++;
  return n;
}

/** The unfinished import of the same files (same paths, sizes and dates), to resume; else a new one. */
async function importJob(db: Database, files: string[], testIdentities: boolean): Promise<Job<ImportParams, ImportState>> {
  const signature = createHash('sha256')
    .update(JSON.stringify(files.map((f) => [f, statSync(f).size, statSync(f).mtimeMs])))
    .digest('hex');
  const [found] = await db.query<{ id: string }>(
    `SELECT id FROM bulk_job WHERE kind = 'import' AND status = 'running' AND params -> 'local' ->> 'signature' = $1 ORDER BY created LIMIT 1`,
    [signature],
  );
  let id = found?.id;
  if (id) console.error(`Resuming the import of these files started before (job ${id})`);
  else {
    const params: ImportParams = { inputs: files.map((path) => ({ path })), testIdentities, local: { signature } };
    id = await createJob(db, 'import', `maillage import ${files.join(' ')}`, params, undefined);
    await db.query(`UPDATE bulk_job SET status = 'running', heartbeat = now(), transaction_time = now() WHERE id = $1`, [id]);
  }
  return (await readJob<ImportParams, ImportState>(db, id, 'import')) as Job<ImportParams, ImportState>;
}

/** `maillage import`: NDJSON files into the database through the bulk write path, resumable. */
export function addImportCommand(program: Command): void {
  program
    .command('import <paths...>')
    .description('import NDJSON files (or the *.ndjson files of folders) with the checks of any write, in bulk; run it again after an interruption to resume')
    .action(async (paths: string[]) => {
      const config = loadConfig();
      const logger = createLogger(config.logLevel);
      const fhirBase = fhirBaseOf(config.origin);
      const files = inputFiles(paths);
      if (!files.length) throw new Error('No NDJSON file to import');
      const db = await openDatabase(config);
      try {
        await migrate(db);
        loadBaseDefinitions();
        await loadProfiles(db, fhirBase, logger);
        const job = await importJob(db, files, config.testIdentities);
        let total = 0;
        for (const f of files) total += await countLines(f);
        const bar = new SingleBar(
          { format: 'lines {bar} {value}/{total} | {percentage}% | ETA {eta_formatted}', stream: process.stderr },
          Presets.shades_classic,
        );
        const done = (s: ImportState) => s.done.reduce((a, b) => a + b, 0);
        bar.start(total, job.result ? done(job.result) : 0);
        const started = Date.now();
        const before = job.result ? Object.values(job.result.counts).reduce((a, b) => a + b, 0) : 0;
        const state = await runImportJob(db, job, fhirBase, logger, (s) => bar.update(done(s)));
        bar.stop();
        await finishJob(db, job.id, 'completed', state, config.bulk.retentionSeconds);
        for await (const line of fileLines(db, job.id, ERROR_FILE)) if (line) console.error(JSON.parse(line).issue[0].diagnostics);
        const written = Object.values(state.counts).reduce((a, b) => a + b, 0);
        const seconds = (Date.now() - started) / 1000;
        for (const [type, n] of Object.entries(state.counts).sort()) console.log(`${type}\t${n}`);
        console.log(
          `Imported ${written} resources (${state.errors} lines refused) in ${seconds.toFixed(1)} s: ${Math.round((written - before) / Math.max(seconds, 0.001))} resources/s`,
        );
      } finally {
        await db.close();
      }
    });
}
