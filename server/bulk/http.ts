import express, { type Request, type Response } from 'express';
import type { AccessRules } from '../access/rules.js';
import type { Access } from '../auth/tokens.js';
import { withActors } from '../access/visibility.js';
import { badRequest, fail, notFound, outcome } from '../fhir/outcome.js';
import { ID_RE } from '../fhir/ids.js';
import { parseJson } from '../fhir/json.js';
import { parsePrefer } from '../interactions/prefer.js';
import type { Database, Queryable } from '../store/db.js';
import { sendOutcome } from '../http/errors.js';
import { mediaType } from '../http/content.js';
import { checkScope, exportParams, kickOffParams, type ExportParams } from './export-request.js';
import type { ExportResult } from './export-run.js';
import { ERROR_FILE, type ImportState } from './import-job.js';
import { checkImporter, importInputs, type ImportInput, type ImportParams } from './import-request.js';
import { createJob, deleteJob, fileChunks, FileWriter, listFiles, mayStartJob, readJob, type Job, type JobKind } from './jobs.js';
import type { BulkWorker } from './worker.js';

export interface BulkDeps {
  db: Database;
  fhirBase: string;
  authEnabled: boolean;
  rules?: AccessRules;
  testIdentities: boolean;
  maxJsonDepth: number;
  maxBodySize: string;
  /** This process's runner, woken when a job is queued here (absent: another process runs it). */
  worker?: BulkWorker;
  /** Seconds a client is told to wait between polls. */
  retryAfter: number;
  /** Jobs a client may have queued or running at once (BULK_JOBS_PER_CLIENT); one more is refused with 429. */
  jobsPerClient: number;
}

const NDJSON_TYPES = new Set(['application/fhir+ndjson', 'application/ndjson', 'application/x-ndjson']);

/** The URL a client polls for a job. */
const statusUrl = (fhirBase: string, kind: JobKind, id: string) => `${fhirBase}/$${kind}-poll-status?_jobId=${id}`;
/** The URL of one of a job's files. */
const fileUrl = (fhirBase: string, id: string, n: number) => `${fhirBase}/$bulk-file?_jobId=${id}&_file=${n}`;

/**
 * Bulk Data over HTTP, beside the FHIR router (its answers are not FHIR resources: 202s with
 * headers, manifests, NDJSON streams). Export (Bulk Data Access IG 2.0.0): kick-off at
 * `$export`, `Patient/$export`, `Group/[id]/$export`; `$export-poll-status?_jobId=` to poll
 * (GET) or cancel (DELETE); `$bulk-file?_jobId=&_file=` for the files. Import (HAPI FHIR's
 * shape): `$import` with a Parameters body of inputs by URL, or an NDJSON body;
 * `$import-poll-status?_jobId=`. A job is its client's: another gets 404.
 */
export function bulkRouter(deps: BulkDeps): express.Router {
  const router = express.Router();
  const body = express.raw({ type: () => true, limit: deps.maxBodySize });
  const accessOf = (res: Response): Access | undefined => res.locals.access;
  const requestUrl = (req: Request) => `${deps.fhirBase}${req.originalUrl.slice(req.baseUrl.length)}`;
  const queued = (res: Response, kind: JobKind, id: string) => {
    deps.worker?.wake();
    res.setHeader('Content-Location', statusUrl(deps.fhirBase, kind, id));
    sendOutcome(res, 202, outcome('information', 'informational', `The ${kind} is queued: poll ${statusUrl(deps.fhirBase, kind, id)}`));
  };
  /** Creates the job in `tx` if the client may start one more; else 429, with when to try again. */
  const admitted = async (tx: Queryable, res: Response, kind: JobKind, request: string, params: unknown, owner: string | undefined) => {
    if (!(await mayStartJob(tx, owner, deps.jobsPerClient))) {
      res.setHeader('Retry-After', String(deps.retryAfter));
      throw fail(429, 'throttled', `${deps.jobsPerClient} bulk data jobs of this client are already queued or running: wait for one to finish, or cancel one`);
    }
    return createJob(tx, kind, request, params, owner);
  };
  const needAsync = (req: Request) => {
    if (!/respond-async/.test(req.get('prefer') ?? '')) throw badRequest('A bulk data kick-off needs the header Prefer: respond-async');
  };
  const ownJob = async <P, R>(req: Request, res: Response, kind: JobKind): Promise<Job<P, R>> => {
    const id = String(req.query._jobId ?? '');
    const job = /^[0-9a-f-]{36}$/.test(id) ? await readJob<P, R>(deps.db, id, kind) : undefined;
    const access = accessOf(res);
    if (!job || (access && job.owner !== access.clientId)) throw notFound(`No ${kind} job ${id} (finished ones expire)`);
    return job;
  };

  const kickOff = async (req: Request, res: Response, level: ExportParams['level'], group?: string) => {
    needAsync(req);
    const query = new URLSearchParams(req.originalUrl.split('?')[1] ?? '');
    const parsed = Buffer.isBuffer(req.body) && req.body.length ? parseJson(req.body.toString('utf8'), deps.maxJsonDepth) : undefined;
    const access = accessOf(res);
    const params = exportParams(level, kickOffParams(query, parsed), parsePrefer(req.get('prefer')), access, deps.rules, deps.fhirBase, group);
    await checkScope(deps.db, params, await withActors(deps.db, params.visibility), deps.fhirBase);
    if (req.ip) params.address = req.ip;
    queued(res, 'export', await deps.db.transaction((tx) => admitted(tx, res, 'export', requestUrl(req), params, access?.clientId)));
  };

  const readBody = (req: Request, res: Response) => new Promise<void>((resolve, reject) => body(req, res, (err?: unknown) => (err ? reject(err) : resolve())));
  const BULK = /^\/(\$export|Patient\/\$export|Group\/[^/]+\/\$export|\$export-poll-status|\$import|\$import-poll-status|\$bulk-file)\/?$/;

  router.use(async (req, res, next) => {
    if (!BULK.test(req.path)) return next();
    await readBody(req, res);
    const path = req.path.split('/').filter(Boolean);
    const m = req.method;
    const kick = m === 'GET' || m === 'POST';
    if (path.length === 1 && path[0] === '$export' && kick) return kickOff(req, res, 'system');
    if (path.length === 2 && path[0] === 'Patient' && path[1] === '$export' && kick) return kickOff(req, res, 'patient');
    if (path.length === 3 && path[0] === 'Group' && path[2] === '$export' && kick) {
      if (!ID_RE.test(path[1])) throw badRequest(`Invalid resource id: ${path[1]}`);
      return kickOff(req, res, 'group', path[1]);
    }
    if (path.length === 1 && path[0] === '$export-poll-status' && (m === 'GET' || m === 'DELETE')) {
      const job = await ownJob<ExportParams, ExportResult>(req, res, 'export');
      if (m === 'DELETE') return cancel(res, job);
      if (job.status === 'queued' || job.status === 'running') return inProgress(res, job);
      if (job.status === 'failed') return failed(res, job);
      const files = await listFiles(deps.db, job.id);
      if (job.expires) res.setHeader('Expires', job.expires.toUTCString());
      res.status(200).json({
        transactionTime: job.transactionTime?.toISOString(),
        request: job.request,
        requiresAccessToken: deps.authEnabled,
        output: files.filter((f) => f.role === 'output').map((f) => ({ type: f.type, url: fileUrl(deps.fhirBase, job.id, f.n), count: f.count })),
        // `_since` exports list what was deleted since (an empty list when nothing was).
        ...(job.params.since
          ? { deleted: files.filter((f) => f.role === 'deleted').map((f) => ({ type: f.type, url: fileUrl(deps.fhirBase, job.id, f.n), count: f.count })) }
          : {}),
        error: files.filter((f) => f.role === 'error').map((f) => ({ type: f.type, url: fileUrl(deps.fhirBase, job.id, f.n), count: f.count })),
      });
      return;
    }
    if (path.length === 1 && path[0] === '$import' && m === 'POST') return importKickOff(req, res);
    if (path.length === 1 && path[0] === '$import-poll-status' && (m === 'GET' || m === 'DELETE')) {
      const job = await ownJob<ImportParams, ImportState>(req, res, 'import');
      if (m === 'DELETE') return cancel(res, job);
      if (job.status === 'queued' || job.status === 'running') return inProgress(res, job);
      if (job.status === 'failed') return failed(res, job);
      const files = await listFiles(deps.db, job.id);
      const state = job.result as ImportState;
      res.status(200).json({
        transactionTime: job.transactionTime?.toISOString(),
        request: job.request,
        requiresAccessToken: deps.authEnabled,
        output: Object.entries(state.counts).map(([type, count]) => ({ type, count })),
        error: files.filter((f) => f.n === ERROR_FILE).map((f) => ({ type: f.type, url: fileUrl(deps.fhirBase, job.id, f.n), count: f.count })),
      });
      return;
    }
    if (path.length === 1 && path[0] === '$bulk-file' && m === 'GET') return sendFile(req, res);
    next();
  });

  const inProgress = (res: Response, job: Job) => {
    res.setHeader('X-Progress', (job.progress ?? job.status).slice(0, 99));
    res.setHeader('Retry-After', String(deps.retryAfter));
    res.status(202).end();
  };
  const failed = (res: Response, job: Job) =>
    sendOutcome(res, 500, outcome('error', 'exception', `The ${job.kind} failed: ${(job.result as { error?: string } | null)?.error ?? 'unknown error'}`));
  const cancel = async (res: Response, job: Job) => {
    await deleteJob(deps.db, job.id, job.kind);
    sendOutcome(res, 202, outcome('information', 'informational', `The ${job.kind} ${job.id} is cancelled and its files deleted`));
  };

  const sendFile = async (req: Request, res: Response) => {
    const id = String(req.query._jobId ?? '');
    const n = Number(req.query._file);
    if (!/^[0-9a-f-]{36}$/.test(id) || !Number.isSafeInteger(n)) throw notFound('No such bulk data file');
    const access = accessOf(res);
    const [job] = await deps.db.query<{ owner: string | null; kind: JobKind }>(
      `SELECT j.owner, j.kind FROM bulk_job j JOIN bulk_file f ON f.job = j.id AND f.n = $2 AND f.role <> 'input'
        WHERE j.id = $1 AND j.status = 'completed' AND (j.expires IS NULL OR j.expires > now())`,
      [id, n],
    );
    if (!job || (access && job.owner !== access.clientId)) throw notFound('No such bulk data file (finished exports expire)');
    res.status(200).setHeader('Content-Type', 'application/fhir+ndjson');
    // Streamed a chunk at a time: a chunk is read once the previous one is on its way.
    for await (const chunk of fileChunks(deps.db, id, n)) {
      if (!res.write(chunk)) await new Promise((r) => res.once('drain', r));
      if (res.destroyed) return;
    }
    res.end();
  };

  const importKickOff = async (req: Request, res: Response) => {
    needAsync(req);
    const access = accessOf(res);
    const actor = checkImporter(access, deps.rules);
    const raw = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    const type = mediaType(req.get('content-type'));
    const upload = type !== undefined && NDJSON_TYPES.has(type);
    const inputs: ImportInput[] = upload ? [{ file: 1 }] : importInputs(raw.length ? parseJson(raw.toString('utf8'), deps.maxJsonDepth) : undefined);
    const params: ImportParams = {
      inputs,
      testIdentities: deps.testIdentities,
      maxJsonDepth: deps.maxJsonDepth,
      ...(actor ? { actor } : {}),
      ...(req.ip ? { address: req.ip } : {}),
    };
    // Queued only once its upload is stored: a job is never taken half uploaded.
    const id = await deps.db.transaction(async (tx) => {
      const job = await admitted(tx, res, 'import', requestUrl(req), params, access?.clientId);
      if (upload) {
        const file = new FileWriter(tx, job, 1, 'input', 'ndjson');
        const text = raw.toString('utf8');
        for (const line of text.endsWith('\n') ? text.slice(0, -1).split('\n') : text.split('\n')) await file.add(line);
        await file.flush();
      }
      return job;
    });
    queued(res, 'import', id);
  };
  return router;
}
