import { randomUUID } from 'node:crypto';
import type { Queryable } from '../store/db.js';

/*
 * Bulk jobs and their files as the database keeps them (migration 019): every server process
 * reads the same rows, so any of them answers a status or serves a file, whichever runs the job.
 */

export type JobKind = 'export' | 'import';
export type JobStatus = 'queued' | 'running' | 'completed' | 'failed';

export interface Job<P = unknown, R = unknown> {
  id: string;
  kind: JobKind;
  status: JobStatus;
  /** The kick-off request's URL, as the manifest repeats it. */
  request: string;
  params: P;
  /** The OAuth client that asked for it: only it polls, cancels and downloads. */
  owner: string | null;
  progress: string | null;
  created: Date;
  transactionTime: Date | null;
  finished: Date | null;
  expires: Date | null;
  result: R | null;
}

const COLUMNS = `id, kind, status, request, params, owner, progress, created, transaction_time AS "transactionTime", finished, expires, result`;
/** An expired job is gone, whether or not the purge has deleted it yet. */
const LIVE = '(expires IS NULL OR expires > now())';

export async function createJob(q: Queryable, kind: JobKind, request: string, params: unknown, owner: string | undefined): Promise<string> {
  const id = randomUUID();
  await q.query(`INSERT INTO bulk_job (id, kind, status, request, params, owner) VALUES ($1, $2, 'queued', $3, $4::json, $5)`, [
    id,
    kind,
    request,
    JSON.stringify(params),
    owner ?? null,
  ]);
  return id;
}

/**
 * Whether `owner` (a client; null: anyone, AUTH off) may start another job: at most `limit` of
 * theirs queued or running at once, so that one client cannot fill the queue ahead of everyone.
 * Called in the transaction that creates the job, which it serialises per client.
 */
export async function mayStartJob(tx: Queryable, owner: string | undefined, limit: number): Promise<boolean> {
  await tx.query(`SELECT pg_advisory_xact_lock(hashtext('bulk-job:' || $1))`, [owner ?? '']);
  const [row] = await tx.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM bulk_job WHERE status IN ('queued', 'running') AND owner IS NOT DISTINCT FROM $1`,
    [owner ?? null],
  );
  return row.n < limit;
}

export async function readJob<P, R>(q: Queryable, id: string, kind: JobKind): Promise<Job<P, R> | undefined> {
  const rows = await q.query<Job<P, R>>(`SELECT ${COLUMNS} FROM bulk_job WHERE id = $1 AND kind = $2 AND ${LIVE}`, [id, kind]);
  return rows[0];
}

/**
 * Takes the oldest job waiting, or one whose runner stopped beating for `staleSeconds` (its
 * process died): SKIP LOCKED, so that processes polling together never take the same one.
 */
export async function claimJob(q: Queryable, staleSeconds: number): Promise<Job | undefined> {
  const rows = await q.query<Job>(
    `UPDATE bulk_job SET status = 'running', heartbeat = now(), transaction_time = coalesce(transaction_time, now())
      WHERE id = (SELECT id FROM bulk_job
                   WHERE (status = 'queued' OR (status = 'running' AND heartbeat < now() - make_interval(secs => $1)))
                     AND params ->> 'local' IS NULL
                   ORDER BY created LIMIT 1 FOR UPDATE SKIP LOCKED)
      RETURNING ${COLUMNS}`,
    [staleSeconds],
  );
  return rows[0];
}

/** Tells the job is still being run, and how far; false when it is gone (cancelled): its runner stops. */
export async function beat(q: Queryable, id: string, progress: string): Promise<boolean> {
  const rows = await q.query(`UPDATE bulk_job SET heartbeat = now(), progress = $2 WHERE id = $1 AND status = 'running' RETURNING id`, [id, progress]);
  return rows.length > 0;
}

/** Ends a job; it is kept, files included, for `retentionSeconds` more. */
export async function finishJob(q: Queryable, id: string, status: 'completed' | 'failed', result: unknown, retentionSeconds: number): Promise<void> {
  await q.query(
    `UPDATE bulk_job SET status = $2, result = $3::json, progress = NULL, finished = now(), expires = now() + make_interval(secs => $4) WHERE id = $1`,
    [id, status, JSON.stringify(result), retentionSeconds],
  );
}

/** Deletes a job and its files (a cancel); false when there was none. */
export async function deleteJob(q: Queryable, id: string, kind: JobKind): Promise<boolean> {
  return (await q.query(`DELETE FROM bulk_job WHERE id = $1 AND kind = $2 RETURNING id`, [id, kind])).length > 0;
}

/** Deletes the jobs past their retention, files included; how many. */
export async function purgeExpired(q: Queryable): Promise<number> {
  return (await q.query(`DELETE FROM bulk_job WHERE expires <= now() RETURNING id`)).length;
}

export interface FileRow {
  n: number;
  role: 'output' | 'error' | 'input' | 'deleted';
  type: string;
  count: number;
}

export const listFiles = (q: Queryable, job: string): Promise<FileRow[]> =>
  q.query<FileRow>(`SELECT n, role, type, count FROM bulk_file WHERE job = $1 ORDER BY n`, [job]);

/** Deletes the files a job had written (but its input): a job taken over after its runner died starts over. */
export async function dropOutputs(q: Queryable, job: string): Promise<void> {
  await q.query(`DELETE FROM bulk_file WHERE job = $1 AND role <> 'input'`, [job]);
}

/** About 1 MB of NDJSON per chunk row: few rows per file, and a bounded piece of it in memory. */
const CHUNK_CHARS = 1 << 20;

/**
 * One NDJSON file of a job, written a chunk at a time; created with its first line (the spec
 * lists no file for a type without resources). A write to a deleted job (cancelled) fails on the
 * foreign key: nothing is left behind.
 */
export class FileWriter {
  private lines: string[] = [];
  private chars = 0;
  private seq = 0;
  count = 0;
  private created = false;

  constructor(
    private readonly q: Queryable,
    private readonly job: string,
    readonly n: number,
    private readonly role: FileRow['role'],
    readonly type: string,
  ) {}

  async add(line: string): Promise<void> {
    this.lines.push(line);
    this.chars += line.length + 1;
    this.count++;
    if (this.chars >= CHUNK_CHARS) await this.flush();
  }

  async flush(): Promise<void> {
    if (!this.lines.length) return;
    if (!this.created) {
      await this.q.query(`INSERT INTO bulk_file (job, n, role, type) VALUES ($1, $2, $3, $4)`, [this.job, this.n, this.role, this.type]);
      this.created = true;
    }
    const data = `${this.lines.join('\n')}\n`;
    this.lines = [];
    this.chars = 0;
    await this.q.query(`INSERT INTO bulk_chunk (job, n, seq, data) VALUES ($1, $2, $3, $4)`, [this.job, this.n, this.seq++, data]);
    await this.q.query(`UPDATE bulk_file SET count = $3 WHERE job = $1 AND n = $2`, [this.job, this.n, this.count]);
  }

  /** Whether anything was written. */
  get written(): boolean {
    return this.created;
  }
}

/** A file's text a chunk at a time, each read when the previous one has been used. */
export async function* fileChunks(q: Queryable, job: string, n: number): AsyncGenerator<string> {
  for (let seq = 0; ; seq++) {
    const rows = await q.query<{ data: string }>(`SELECT data FROM bulk_chunk WHERE job = $1 AND n = $2 AND seq = $3`, [job, n, seq]);
    if (!rows.length) return;
    yield rows[0].data;
  }
}

/** A file's lines (every one, so that their numbers are the file's), chunk by chunk; each chunk ends with a newline. */
export async function* fileLines(q: Queryable, job: string, n: number): AsyncGenerator<string> {
  for await (const chunk of fileChunks(q, job, n)) yield* chunk.slice(0, -1).split('\n');
}

/**
 * Adds lines to a file of a job as one more chunk, the file created with its first: for writers
 * that commit with other rows (an import's errors go with its batch) and keep no state between.
 */
export async function appendLines(q: Queryable, job: string, n: number, role: FileRow['role'], type: string, lines: string[]): Promise<void> {
  if (!lines.length) return;
  await q.query(
    `INSERT INTO bulk_file (job, n, role, type, count) VALUES ($1, $2, $3, $4, $5)
     ON CONFLICT (job, n) DO UPDATE SET count = bulk_file.count + excluded.count`,
    [job, n, role, type, lines.length],
  );
  await q.query(`INSERT INTO bulk_chunk (job, n, seq, data) SELECT $1, $2, coalesce(max(seq) + 1, 0), $3 FROM bulk_chunk WHERE job = $1 AND n = $2`, [
    job,
    n,
    `${lines.join('\n')}\n`,
  ]);
}
