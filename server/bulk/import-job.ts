import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { Readable } from 'node:stream';
import type { Logger } from 'pino';
import type { AccessRecord } from '../audit/event.js';
import { trailEntry, writeTrail } from '../audit/trail.js';
import { outcome } from '../fhir/outcome.js';
import { INDEX_TABLES } from '../store/index-tables.js';
import type { Database, Queryable } from '../store/db.js';
import { Cancelled } from './export-run.js';
import { importLines } from './import-lines.js';
import { Preparation } from './prepare-pool.js';
import type { ImportInput, ImportParams } from './import-request.js';
import { appendLines, fileLines, type Job } from './jobs.js';

/** Where an import stands, kept with its job in each batch's transaction: a job taken over resumes there. */
export interface ImportState {
  /** Per input, the lines done. */
  done: number[];
  counts: Record<string, number>;
  errors: number;
}

/** Resources imported past which the tables are analysed once done. */
const ANALYZE_AFTER = 10_000;

/** The number of the error file of an import (its uploads are 1, 2, …). */
export const ERROR_FILE = 0;

/** An OperationOutcome line of an import's error file: the input, the line and why. */
export const errorLine = (source: string, line: number, reason: string) => JSON.stringify(outcome('error', 'invalid', `${source}, line ${line}: ${reason}`));

/** The lines of an input fetched by URL, as they arrive. */
async function* urlLines(url: string): AsyncGenerator<string> {
  const res = await fetch(url, { headers: { accept: 'application/fhir+ndjson' } });
  if (!res.ok || !res.body) throw new Error(`${url}: HTTP ${res.status}`);
  yield* createInterface({ input: Readable.fromWeb(res.body as never), crlfDelay: Number.POSITIVE_INFINITY });
}

/** The lines of a local file (`maillage import`). */
const pathLines = (path: string) => createInterface({ input: createReadStream(path), crlfDelay: Number.POSITIVE_INFINITY });

const linesOf = (db: Database, job: string, input: ImportInput): AsyncIterable<string> =>
  input.url ? urlLines(input.url) : input.path ? pathLines(input.path) : fileLines(db, job, input.file as number);

/** Records the state in the batch's transaction; a job gone (cancelled) rolls the batch back. */
async function saveState(tx: Queryable, job: string, state: ImportState, progress: string): Promise<void> {
  const rows = await tx.query(`UPDATE bulk_job SET result = $2::json, progress = $3, heartbeat = now() WHERE id = $1 AND status = 'running' RETURNING id`, [
    job,
    JSON.stringify(state),
    progress,
  ]);
  if (!rows.length) throw new Cancelled();
}

/**
 * Runs an import job: each input's lines through the bulk write path, its state saved with every
 * batch so that a job taken over after a crash resumes after the last batch written, its bad
 * lines in the error file. Each batch is traced in the audit trail in its own transaction, as
 * any write is: its types, counts and patients.
 */
export async function runImportJob(
  db: Database,
  job: Job<ImportParams, ImportState>,
  fhirBase: string,
  log: Logger,
  onProgress?: (state: ImportState) => void,
): Promise<ImportState> {
  const p = job.params;
  const state: ImportState = job.result ?? { done: p.inputs.map(() => 0), counts: {}, errors: 0 };
  const o = { fhirBase, testIdentities: p.testIdentities, maxJsonDepth: p.maxJsonDepth };
  const preparation = new Preparation(db, o);
  try {
    for (const [i, input] of p.inputs.entries()) {
      const source = input.url ?? input.path ?? `upload ${input.file}`;
      await importLines(
        db,
        o,
        source,
        linesOf(db, job.id, input),
        state.done[i],
        async (tx, linesDone, written, errors) => {
          const next: ImportState = {
            done: state.done.map((d, k) => (k === i ? linesDone : d)),
            counts: { ...state.counts },
            errors: state.errors + errors.length,
          };
          const counts: Record<string, number> = {};
          const patients = new Set<string>();
          for (const w of written) {
            counts[w.version.type] = (counts[w.version.type] ?? 0) + 1;
            next.counts[w.version.type] = (next.counts[w.version.type] ?? 0) + 1;
            for (const id of w.version.patients) patients.add(id);
          }
          await appendLines(
            tx,
            job.id,
            ERROR_FILE,
            'error',
            'OperationOutcome',
            errors.map((e) => errorLine(e.source, e.line, e.reason)),
          );
          await saveState(tx, job.id, next, `${source}: ${linesDone} lines`);
          if (p.actor && written.length) await writeTrail(tx, [trailEntry(importRecord(p, job, fhirBase, counts, [...patients]))]);
          // Taken as the state once committed (should the commit fail, the job fails).
          Object.assign(state, next);
          onProgress?.(state);
        },
        preparation,
      );
    }
  } finally {
    await preparation.drop();
  }
  log.info({ job: job.id, counts: state.counts, errors: state.errors }, 'bulk import done');
  // After a load, the planner's statistics are those of the tables before it: a search (or an
  // export) would be planned for a few rows where there are many.
  const written = Object.values(state.counts).reduce((a, b) => a + b, 0);
  if (written >= ANALYZE_AFTER) await db.query(`ANALYZE resource, resource_version, care_link, ${INDEX_TABLES.map((t) => `sp_${t.name}`).join(', ')}`);
  return state;
}

/** The trail's record of one batch of an import. */
function importRecord(p: ImportParams, job: Job, fhirBase: string, counts: Record<string, number>, patients: string[]): AccessRecord {
  return {
    actor: p.actor as AccessRecord['actor'],
    site: fhirBase,
    ...(p.address ? { address: p.address } : {}),
    interaction: 'operation',
    operation: '$import',
    resources: [],
    patients,
    started: job.created,
    status: 200,
    diagnostics: `Bulk import ${job.id}: ${Object.entries(counts)
      .map(([t, k]) => `${t} ${k}`)
      .join(', ')}`,
  };
}
