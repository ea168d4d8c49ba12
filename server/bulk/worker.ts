import type { Logger } from 'pino';
import type { BulkSettings } from '../config.js';
import type { Database } from '../store/db.js';
import type { ExportParams } from './export-request.js';
import { Cancelled, runExport } from './export-run.js';
import type { ImportParams } from './import-request.js';
import { runImportJob, type ImportState } from './import-job.js';
import { claimJob, dropOutputs, finishJob, purgeExpired, type Job } from './jobs.js';

/** Seconds without a heartbeat after which a running job's process is taken for dead and another takes the job over. */
const STALE_SECONDS = 60;

/**
 * Runs the bulk jobs in the background of a server process, one at a time: any process may take
 * a waiting one (claimJob's SKIP LOCKED gives each to one), so jobs go on when the process that
 * accepted them is busy or gone. Also deletes the jobs past their retention.
 */
export class BulkWorker {
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;
  private again = false;
  private closed = false;

  constructor(
    private readonly db: Database,
    private readonly fhirBase: string,
    private readonly log: Logger,
    readonly settings: BulkSettings,
  ) {}

  start(): this {
    if (this.settings.run) {
      this.timer = setInterval(() => this.wake(), this.settings.pollMs).unref();
      this.wake();
    }
    return this;
  }

  /** Looks for work now (a job was just queued here). */
  wake(): void {
    if (!this.settings.run || this.closed) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.drain().finally(() => {
      this.running = undefined;
      if (this.again) {
        this.again = false;
        this.wake();
      }
    });
  }

  private async drain(): Promise<void> {
    try {
      await purgeExpired(this.db);
      for (let job = await claimJob(this.db, STALE_SECONDS); job && !this.closed; job = await claimJob(this.db, STALE_SECONDS)) await this.run(job);
    } catch (err) {
      // A lost connection: the next poll tries again.
      this.log.warn({ err }, 'bulk jobs could not be looked for');
    }
  }

  private async run(job: Job): Promise<void> {
    const started = Date.now();
    try {
      let result: unknown;
      if (job.kind === 'export') {
        // Taken over from a process that died: its files start over.
        if (job.progress !== null) await dropOutputs(this.db, job.id);
        result = await runExport(this.db, job as Job<ExportParams>, this.fhirBase);
      } else {
        result = await runImportJob(this.db, job as Job<ImportParams, ImportState>, this.fhirBase, this.log);
      }
      await finishJob(this.db, job.id, 'completed', result, this.settings.retentionSeconds);
      this.log.info({ job: job.id, kind: job.kind, ms: Date.now() - started }, 'bulk job done');
    } catch (err) {
      // Cancelled: the job's rows are gone (a write to them fails on its foreign key).
      if (err instanceof Cancelled || (err as { code?: string }).code === '23503') return;
      this.log.error({ err, job: job.id }, 'bulk job failed');
      await finishJob(this.db, job.id, 'failed', { error: (err as Error).message }, this.settings.retentionSeconds).catch(() => undefined);
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.timer);
    await this.running;
  }
}
