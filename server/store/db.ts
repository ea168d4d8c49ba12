import { createHash } from 'node:crypto';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import pg from 'pg';
import { from as copyFromStdin } from 'pg-copy-streams';
import { asServiceFault, isConnectionFault } from './faults.js';
import { PGlite } from '@electric-sql/pglite';
import { pg_trgm } from '@electric-sql/pglite/contrib/pg_trgm';

export interface QueryOptions {
  /**
   * `true`, for statements of one text run very often (writes, the access check of a read):
   * PostgreSQL keeps them parsed per connection and, once its generic plan is as good as a fresh
   * one, planned. Not for texts that vary without end (searches): each would stay prepared on
   * every connection.
   *
   * `'recurring'`, for such texts when planning them costs more than running them (searches and
   * their includes: a two-step chain at 1M resources took 1.3 ms to plan and 0.5 ms to run):
   * prepared only once the text comes again among the last RECENT_TEXTS, so that one-off texts
   * are never kept.
   */
  prepare?: boolean | 'recurring';
}

/** Anything that runs SQL: the pool, or one connection inside a transaction. */
export interface Queryable {
  query<R = Record<string, unknown>>(sql: string, params?: unknown[], options?: QueryOptions): Promise<R[]>;
  /**
   * Runs `COPY <table> (<columns>) FROM STDIN` with `rows` in COPY's text format (copy-text.ts):
   * the cheapest way PostgreSQL takes rows in, for writes in bulk.
   */
  copyFrom(target: string, rows: string): Promise<void>;
}

export interface Database extends Queryable {
  readonly kind: 'postgres' | 'pglite';
  /** Runs fn in one database transaction; committed if fn resolves, rolled back if it throws. */
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T>;
  /** The same database for the server's own long work, whose statements may run longer. */
  maintenance(): Database;
  /**
   * The same database for one request's work: its statements are cancelled on the server once
   * `signal` aborts (its client went away). Passed down explicitly with the request's context: an
   * AsyncLocalStorage would have hooked every promise of the process (a quarter of a read's time).
   */
  cancelledBy(signal: AbortSignal): Database;
  /** The process's database this one is a view of (itself when it is that one): what the caches of a database are kept under. */
  readonly root: Database;
  /**
   * Hears the notifications of `channel` (PostgreSQL LISTEN) on a connection of its own, opened
   * again after it is lost: `heard(true)` each time it listens, `heard(false)` when it lost the
   * connection (notifications sent meanwhile are not heard). Resolves with a function that stops.
   */
  listen(channel: string, handlers: ListenHandlers): Promise<() => Promise<void>>;
  close(): Promise<void>;
}

export interface ListenHandlers {
  notified(payload: string): void;
  heard(listening: boolean): void;
}

const INT8 = 20;
// Resource row ids are bigserial; they stay far below 2^53, so plain numbers are safe.
pg.types.setTypeParser(INT8, (v) => Number(v));

/** Errors that mean "another writer got there first": the whole transaction is retried. */
const RETRYABLE = new Set(['40001', '40P01', '23505']);
const MAX_ATTEMPTS = 8;

/** The options of searches, whose filters, joins and access checks cost more to plan than to run. */
export const RECURRING: QueryOptions = { prepare: 'recurring' };

const RECENT_TEXTS = 500;
const MAX_USES = 20_000;
/** The statement names of the latest texts run prepared, oldest first (a Map: no digest for a text seen again). */
const recentTexts = new Map<string, string>();

/**
 * A named statement for pg when asked for (its name is its text's digest, so one name never has
 * two texts): at once for `prepare: true`, on a text's second run among the recent ones for
 * `'recurring'`.
 */
function statement(sql: string, params: unknown[] | undefined, options: QueryOptions | undefined): pg.QueryConfig {
  if (!options?.prepare) return { text: sql, values: params };
  let name = recentTexts.get(sql);
  const seen = name !== undefined;
  if (seen) recentTexts.delete(sql);
  else name = `s${createHash('sha1').update(sql).digest('base64url')}`;
  recentTexts.set(sql, name as string);
  if (recentTexts.size > RECENT_TEXTS) recentTexts.delete(recentTexts.keys().next().value as string);
  return { text: sql, values: params, ...(options.prepare === true || seen ? { name } : {}) };
}

export interface StatementLimits {
  /** Milliseconds a statement may run before PostgreSQL cancels it (0: no bound). */
  statementTimeout: number;
  /** The bound of the server's own long work (migrations, reindex, packages): see maintenance(). */
  maintenanceTimeout: number;
  /** Milliseconds to wait for a free connection before answering 503 (0: no bound). */
  connectionWait: number;
}

const UNBOUNDED: StatementLimits = { statementTimeout: 0, maintenanceTimeout: 0, connectionWait: 0 };

export function openPostgres(url: string, poolSize: number, options: StatementLimits = UNBOUNDED): Database {
  // No JIT: the access checks' correlated subplans carry cost estimates far above what they
  // read, and compiling them takes longer than running them (hundreds of ms).
  // A connection is replaced after MAX_USES checkouts: what it keeps prepared stays bounded.
  const pool = new pg.Pool({
    connectionString: url,
    max: poolSize,
    options: '-c jit=off',
    maxUses: MAX_USES,
    statement_timeout: options.statementTimeout || undefined,
    connectionTimeoutMillis: options.connectionWait || undefined,
  });
  // A client losing its connection (a restart, a failover, a terminated backend) emits 'error',
  // idle or checked out: unheard, that event would end the process. The query it ran fails on
  // its own, and the pool replaces the client.
  pool.on('error', () => undefined);
  pool.on('connect', (client) => client.on('error', () => undefined));
  let maintenance: Database | undefined;
  const database = (signal?: AbortSignal): Database => ({
    kind: 'postgres',
    async query(sql, params, opts) {
      return withClient(pool, options.statementTimeout, signal, async (client) => (await run(client, statement(sql, params, opts), signal)).rows);
    },
    copyFrom: (target, rows) => withClient(pool, options.statementTimeout, signal, (client) => copyRows(client, target, rows)),
    transaction: (fn) => transaction(pool, options.statementTimeout, signal, fn),
    // A pool of its own (its connections opened when used, closed when idle): the timeout is a setting of the connection.
    maintenance: () =>
      options.statementTimeout === options.maintenanceTimeout
        ? shared
        : (maintenance ??= openPostgres(url, poolSize, { ...options, statementTimeout: options.maintenanceTimeout })),
    cancelledBy: (s) => database(s),
    get root() {
      return shared;
    },
    listen: (channel, handlers) => listenPostgres(url, channel, handlers),
    async close() {
      await maintenance?.close();
      await pool.end();
    },
  });
  const shared = database();
  return shared;
}

const RELISTEN_MS = [100, 500, 2000, 5000];

/**
 * LISTEN on a client of its own (a pooled connection would be handed to others), connected again
 * after any loss with growing pauses, until stopped.
 */
async function listenPostgres(url: string, channel: string, handlers: ListenHandlers): Promise<() => Promise<void>> {
  let stopped = false;
  let client: pg.Client | undefined;
  let failures = 0;
  // Told once per change: a loss while stopping is not a second loss.
  let listening = false;
  const heard = (now: boolean) => {
    if (now !== listening) handlers.heard((listening = now));
  };
  let retry: NodeJS.Timeout | undefined;
  const connect = async (): Promise<void> => {
    const c = new pg.Client({ connectionString: url });
    client = c;
    let lost = false;
    let established = false;
    // Listened to from the start: an error event without a listener would end the process. Before
    // LISTEN has succeeded, the failure is the connect's or the query's, and attempt() tries again.
    const onLost = () => {
      if (!established || lost) return;
      lost = true;
      heard(false);
      c.end().catch(() => undefined);
      if (!stopped) retry = setTimeout(() => void attempt(), RELISTEN_MS[Math.min(failures++, RELISTEN_MS.length - 1)]);
    };
    c.on('notification', (n) => {
      if (n.channel === channel) handlers.notified(n.payload ?? '');
    });
    c.on('error', onLost);
    c.on('end', onLost);
    try {
      await c.connect();
      await c.query(`LISTEN ${pg.escapeIdentifier(channel)}`);
    } catch (err) {
      await c.end().catch(() => undefined);
      throw err;
    }
    established = true;
    failures = 0;
    heard(true);
  };
  const attempt = async () => {
    if (stopped) return;
    try {
      await connect();
    } catch {
      if (!stopped) retry = setTimeout(() => void attempt(), RELISTEN_MS[Math.min(failures++, RELISTEN_MS.length - 1)]);
    }
  };
  await connect();
  return async () => {
    stopped = true;
    clearTimeout(retry);
    const c = client;
    c?.removeAllListeners('end');
    c?.removeAllListeners('error');
    c?.on('error', () => undefined);
    await c?.end().catch(() => undefined);
    heard(false);
  };
}

/** Runs fn on a connection of the pool, given back after (closed if it failed, or if the request was abandoned). */
async function withClient<T>(pool: pg.Pool, timeout: number, signal: AbortSignal | undefined, fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  let client: pg.PoolClient;
  try {
    client = await pool.connect();
  } catch (err) {
    throw asServiceFault(err, timeout, signal);
  }
  let broken: Error | undefined;
  try {
    signal?.throwIfAborted();
    return await fn(client);
  } catch (err) {
    if (isConnectionFault(err)) broken = err as Error;
    throw asServiceFault(err, timeout, signal);
  } finally {
    // An abandoned request's connection is not reused: a cancel sent for it may still be on its way.
    client.release(broken ?? (signal?.aborted ? new Error('request abandoned') : undefined));
  }
}

async function transaction<T>(pool: pg.Pool, timeout: number, signal: AbortSignal | undefined, fn: (tx: Queryable) => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await withClient(pool, timeout, signal, async (client) => {
        try {
          await run(client, { text: 'BEGIN' }, signal);
          const tx: Queryable = {
            query: async (sql, params, options) => (await run(client, statement(sql, params, options), signal)).rows,
            copyFrom: (target, rows) => copyRows(client, target, rows),
          };
          const result = await fn(tx);
          await run(client, { text: 'COMMIT' }, signal);
          return result;
        } catch (err) {
          if (!isConnectionFault(err)) await client.query('ROLLBACK').catch(() => undefined);
          throw err;
        }
      });
    } catch (err) {
      const code = (err as { code?: string }).code;
      if (code && RETRYABLE.has(code) && attempt < MAX_ATTEMPTS) {
        await new Promise((r) => setTimeout(r, Math.random() * 10 * attempt));
        continue;
      }
      throw err;
    }
  }
}

/** Runs one statement, cancelled on the server if the request it serves is abandoned meanwhile. */
async function run(client: pg.PoolClient, config: pg.QueryConfig, signal: AbortSignal | undefined): Promise<pg.QueryResult> {
  signal?.throwIfAborted();
  const pending = client.query(config);
  if (!signal) return pending;
  const cancel = () => cancelQuery(client);
  signal.addEventListener('abort', cancel, { once: true });
  try {
    return await pending;
  } finally {
    signal.removeEventListener('abort', cancel);
  }
}

/** COPY FROM STDIN on one connection, the rows streamed in chunks (a batch's rows run to megabytes). */
async function copyRows(client: pg.PoolClient, target: string, rows: string): Promise<void> {
  if (!rows) return;
  await pipeline(Readable.from(chunks(rows)), client.query(copyFromStdin(`COPY ${target} FROM STDIN`)));
}

const CHUNK = 1 << 20;
function* chunks(text: string): Generator<Buffer> {
  for (let i = 0; i < text.length; i += CHUNK) yield Buffer.from(text.slice(i, i + CHUNK));
}

/**
 * Asks PostgreSQL to cancel what a connection runs: the protocol's CancelRequest, sent on a socket
 * of its own with the backend's key (no login, no pool slot).
 */
function cancelQuery(client: pg.PoolClient): void {
  const backend = client as unknown as { processID: number; secretKey: number; host: string; port: number };
  const socket = new pg.Connection() as unknown as NodeJS.EventEmitter & {
    cancel(processID: number, secretKey: number): void;
    connect(port: number | string, host?: string): void;
  };
  socket.on('error', () => undefined);
  socket.on('connect', () => {
    // PostgreSQL closes the socket once it has read the request.
    socket.cancel(backend.processID, backend.secretKey);
  });
  if (backend.host.startsWith('/')) socket.connect(`${backend.host}/.s.PGSQL.${backend.port}`);
  else socket.connect(backend.port, backend.host);
}

/** PGlite's COPY reads its rows from a Blob given with the statement, as the file `/dev/blob`. */
async function copyBlob(q: Pick<PGlite, 'query'>, target: string, rows: string): Promise<void> {
  if (rows) await q.query(`COPY ${target} FROM '/dev/blob'`, [], { blob: new Blob([rows]) });
}

export interface PgliteDatabase extends Database {
  /** The data directory as a tarball (PGlite's dumpDataDir), which openPglite can start from. */
  dump(): Promise<Blob>;
}

/**
 * PGlite in `dataDir`, started from `from` (a dump) when given instead of the empty cluster initdb
 * makes: the tests open every server's database from one snapshot, initdb costing seconds.
 */
export async function openPglite(dataDir: string, from?: Blob): Promise<PgliteDatabase> {
  const db = await PGlite.create(dataDir, {
    extensions: { pg_trgm },
    parsers: { [INT8]: (v: string) => Number(v) },
    ...(from ? { loadDataDir: from } : {}),
  });
  // PGlite is one connection: every query and transaction is already serialised by the library.
  // It runs in this process, without statement timeouts or cancellation: the request limits bound it.
  const database: PgliteDatabase = {
    kind: 'pglite',
    async query(sql, params) {
      return (await db.query(sql, params as unknown[])).rows as never[];
    },
    copyFrom: (target, rows) => copyBlob(db, target, rows),
    transaction(fn) {
      return db.transaction((tx) =>
        fn({
          query: async (sql, params) => (await tx.query(sql, params as unknown[])).rows as never[],
          copyFrom: (target, rows) => copyBlob(tx, target, rows),
        }),
      );
    },
    maintenance: () => database,
    cancelledBy: () => database,
    get root() {
      return database;
    },
    // One connection, in this process: nothing is ever lost.
    async listen(channel, handlers) {
      const unlisten = await db.listen(channel, handlers.notified);
      handlers.heard(true);
      return async () => {
        await unlisten().catch(() => undefined);
        handlers.heard(false);
      };
    },
    close: () => db.close(),
    dump: () => db.dumpDataDir('none'),
  };
  return database;
}
