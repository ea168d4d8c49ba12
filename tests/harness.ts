import { afterAll, beforeAll, inject } from 'vitest';
import { randomBytes } from 'node:crypto';
import { openAsBlob } from 'node:fs';
import { createServer } from 'node:net';
import pg from 'pg';
import { fhirBaseOf, loadConfig, type Config } from '../server/config.js';
import { createLogger } from '../server/logger.js';
import { DEMO } from '../seed/load.js';
import { UserService } from '../server/auth/users.js';
import { startServer, type RunningServer } from '../server/main.js';
import { openPglite, openPostgres, type Database, type PgliteDatabase } from '../server/store/db.js';

/** The databases every storage test runs on: PGlite always, PostgreSQL when TEST_DATABASE_URL is set. */
export const DATABASES: ('pglite' | 'postgres')[] = process.env.TEST_DATABASE_URL ? ['pglite', 'postgres'] : ['pglite'];

/**
 * The databases global-setup.ts builds once per run, for the test servers to start from: an empty
 * one (PGlite after initdb), a migrated one, and what a first start with the test settings
 * (testConfig) writes, with the NOS terminology or without, with the French packages of
 * FHIR_IGS's default and the NOS terminology ('loaded-fr'), or with the demo pôle. A start writes
 * beyond the migrations only what these settings decide (the demo, the terminology, Maillage's
 * profiles); what it writes at every start (signing keys, clients) it writes as ever.
 */
export type Snapshot = 'empty' | ServerSnapshot;
export type ServerSnapshot = 'migrated' | 'loaded' | 'loaded-nos' | 'loaded-fr' | 'demo';

/** Where the snapshots are, given by the global setup: PGlite dumps (files) and PostgreSQL templates (database names). */
export interface Snapshots {
  pglite: Record<Snapshot, string>;
  postgres?: Record<ServerSnapshot, string>;
}

declare module 'vitest' {
  export interface ProvidedContext {
    snapshots: Snapshots;
  }
}

/**
 * The snapshot a first start with this configuration begins from. The demo loads only into an
 * empty database: with the NOS terminology, its servers start from the migrated one and load it as
 * a fresh server does.
 */
function snapshotFor(config: Config): ServerSnapshot {
  if (config.seed === 'demo') return config.terminology === 'nos' || config.fhirIgs.length ? 'migrated' : 'demo';
  if (config.fhirIgs.length) return 'loaded-fr';
  return config.terminology === 'nos' ? 'loaded-nos' : 'loaded';
}

/** A PGlite holding the snapshot, in memory or in `dataDir` (which must hold no database yet). */
export async function pgliteFrom(snapshot: Snapshot, dataDir = 'memory://'): Promise<PgliteDatabase> {
  return openPglite(dataDir, await openAsBlob(inject('snapshots').pglite[snapshot]));
}

/** A PostgreSQL database on TEST_DATABASE_URL's server. */
export interface PostgresDatabase {
  name: string;
  url: string;
  drop(): Promise<void>;
}

/** Creates a PostgreSQL database, empty or a copy of the database `template`. */
export async function createPostgresDatabase(prefix: string, template?: string): Promise<PostgresDatabase> {
  const adminUrl = process.env.TEST_DATABASE_URL as string;
  const name = `${prefix}_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}${template ? ` TEMPLATE ${template}` : ''}`);
  await admin.end();
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return { name, url: url.toString(), drop: () => dropPostgresDatabase(name) };
}

/** Drops a database of TEST_DATABASE_URL's server, whoever is still connected to it. */
export async function dropPostgresDatabase(name: string): Promise<void> {
  const c = new pg.Client({ connectionString: process.env.TEST_DATABASE_URL as string });
  await c.connect();
  await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  await c.end();
}

/** Creates a PostgreSQL database for one test file, empty or a copy of a snapshot. */
export async function freshPostgresDatabase(snapshot?: ServerSnapshot): Promise<PostgresDatabase> {
  const template = snapshot && inject('snapshots').postgres?.[snapshot];
  if (snapshot && !template) throw new Error(`No PostgreSQL snapshot ${snapshot}: TEST_DATABASE_URL was not set for the global setup`);
  return createPostgresDatabase('maillage_test', template);
}

/**
 * Opens a database of the kind for one test file, empty or a copy of a snapshot (PGlite in memory,
 * or a PostgreSQL database of its own); `close` closes it and drops it.
 */
export async function openTestDatabase(kind: 'pglite' | 'postgres', snapshot: Snapshot = 'empty'): Promise<{ db: Database; close: () => Promise<void> }> {
  if (kind === 'pglite') {
    const db = await pgliteFrom(snapshot);
    return { db, close: () => db.close() };
  }
  const pg = await freshPostgresDatabase(snapshot === 'empty' ? undefined : snapshot);
  const db = openPostgres(pg.url, 2);
  return {
    db,
    close: async () => {
      await db.close();
      await pg.drop();
    },
  };
}

/** Runs `fn` on an empty database of the kind (PGlite in memory, or a fresh PostgreSQL database), dropped after. */
export async function withDatabase(kind: 'pglite' | 'postgres', fn: (db: Database) => Promise<void>): Promise<void> {
  const { db, close } = await openTestDatabase(kind);
  try {
    await fn(db);
  } finally {
    await close();
  }
}

/** A free TCP port on the loopback, so the server's BASE_URL can name it before it listens. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

export interface TestServer extends RunningServer {
  /** The FHIR base, e.g. http://127.0.0.1:41234/fhir */
  base: string;
  /** Closes the server, then drops its PostgreSQL database. */
  stop(): Promise<void>;
}

/** The key the test servers' signing keys are encrypted under (KEY_ENCRYPTION_KEY): for tests only. */
export const TEST_KEY_ENCRYPTION_KEY = Buffer.alloc(32, 7).toString('base64');

/** The settings of a test server on `port`: no demo, no terminology, no authorization unless overridden. */
export function testConfig(port: number, overrides: Partial<Config> = {}): Config {
  return {
    ...loadConfig({}),
    port,
    host: '127.0.0.1',
    origin: `http://127.0.0.1:${port}`,
    dataDir: 'memory://',
    seed: 'none',
    // Installing the NOS terminology costs a second per start: the tests that need it ask for it.
    terminology: 'none',
    // Installing FR Core, the Annuaire and the Cercle de soins costs half a minute: the tests that need them ask (frenchConfig).
    fhirIgs: [],
    auth: false,
    keyEncryptionKeys: [TEST_KEY_ENCRYPTION_KEY],
    logLevel: process.env.TEST_LOG_LEVEL ?? 'silent',
    ...overrides,
  };
}

/** What a server with FHIR_IGS's default holds: FR Core, the Annuaire, the Cercle de soins and the NOS terminology. */
export const FRENCH: Partial<Config> = { fhirIgs: loadConfig({}).fhirIgs, terminology: 'nos' };

/** Bulk jobs taken at once (polled every 50 ms), and kept an hour. */
export const FAST_BULK: Pick<Config, 'bulk'> = { bulk: { ...loadConfig({}).bulk, retentionSeconds: 3600, pollMs: 50, run: true } };

/**
 * Starts a real server on a free port over a fresh database of the given kind, a copy of the
 * snapshot of what a first start with its settings writes (unless `overrides` name a database).
 */
export async function startTestServer(kind: 'pglite' | 'postgres', overrides: Partial<Config> = {}): Promise<TestServer> {
  const port = await freePort();
  const snapshot = snapshotFor(testConfig(port, overrides));
  const pgDb = kind === 'postgres' && !overrides.databaseUrl ? await freshPostgresDatabase(snapshot) : undefined;
  const config = testConfig(port, { databaseUrl: pgDb?.url, ...overrides });
  const db = !config.databaseUrl && config.dataDir === 'memory://' ? await pgliteFrom(snapshot) : undefined;
  let running: RunningServer;
  try {
    running = await startServer(config, createLogger(config.logLevel), { demo: DEMO, database: db });
    // The demo's first start gives its professionals logins (server/main.ts); a start from its snapshot does the same.
    if (snapshot === 'demo' && config.auth && !overrides.databaseUrl) running = { ...running, demoLogins: await DEMO.resetLogins(new UserService(running.db)) };
  } catch (err) {
    // A server that refuses to start may not have closed the database it was given.
    await db?.close().catch(() => undefined);
    await pgDb?.drop();
    throw err;
  }
  return {
    ...running,
    base: fhirBaseOf(config.origin),
    stop: async () => {
      await running.close();
      await pgDb?.drop();
    },
  };
}

export interface FhirReply<T = any> {
  status: number;
  headers: Headers;
  body: T;
}

/** A small fetch wrapper for tests: JSON in, JSON (or nothing) out. */
export function client(base: string) {
  const call = async (method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<FhirReply> => {
    const res = await fetch(path.startsWith('http') ? path : `${base}/${path}`, {
      method,
      headers: { ...(body !== undefined ? { 'content-type': 'application/fhir+json' } : {}), ...headers },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : undefined };
  };
  return {
    get: (path: string, headers?: Record<string, string>) => call('GET', path, undefined, headers),
    post: (path: string, body: unknown, headers?: Record<string, string>) => call('POST', path, body, headers),
    put: (path: string, body: unknown, headers?: Record<string, string>) => call('PUT', path, body, headers),
    patch: (path: string, ops: unknown, headers?: Record<string, string>) =>
      call('PATCH', path, ops, { 'content-type': 'application/json-patch+json', ...headers }),
    delete: (path: string, headers?: Record<string, string>) => call('DELETE', path, undefined, headers),
    call,
  };
}

/** Starts a server for the enclosing describe block and stops it after; use inside describe.each(DATABASES). */
export function useServer(kind: 'pglite' | 'postgres', overrides: Partial<Config> = {}) {
  const ctx = {} as { server: TestServer; api: ReturnType<typeof client> };
  beforeAll(async () => {
    ctx.server = await startTestServer(kind, overrides);
    ctx.api = client(ctx.server.base);
  });
  afterAll(async () => {
    await ctx.server?.stop();
  });
  return ctx;
}

export interface ServerProcess {
  url: string;
  child: import('node:child_process').ChildProcess;
  /** Resolves with the exit code once the process has ended. */
  exited: Promise<number | null>;
}

/**
 * Two server processes on one PostgreSQL database of their own (empty, or a copy of `snapshot`),
 * started at once with `env`, for the tests of one describe block; after them, the processes (and
 * any a test added to `servers`) are stopped and the database dropped.
 */
export function useServerPair(snapshot: ServerSnapshot | undefined, env: Record<string, string> = {}) {
  const servers: ServerProcess[] = [];
  let database: PostgresDatabase | undefined;
  beforeAll(async () => {
    const db = await freshPostgresDatabase(snapshot);
    database = db;
    servers.push(...(await Promise.all([0, 1].map(() => spawnServer({ DATABASE_URL: db.url, ...env })))));
  });
  afterAll(async () => {
    for (const s of servers) if (s.child.exitCode === null) s.child.kill('SIGTERM');
    await Promise.all(servers.map((s) => s.exited));
    await database?.drop();
  });
  return {
    servers,
    /** The database's URL, once the processes started. */
    databaseUrl: () => (database as PostgresDatabase).url,
  };
}

/** Runs `maillage serve` in its own process (from source, through tsx) and waits until it is ready. */
export async function spawnServer(env: Record<string, string>): Promise<ServerProcess> {
  const { spawn } = await import('node:child_process');
  const port = await freePort();
  const child = spawn(process.execPath, ['--import', 'tsx', 'cli/maillage.ts', 'serve'], {
    env: {
      ...process.env,
      AUTH: 'off',
      KEY_ENCRYPTION_KEY: TEST_KEY_ENCRYPTION_KEY,
      SEED: 'none',
      TERMINOLOGY: 'none',
      // As testConfig: the French packages cost a first start some 30 s; the tests that need them ask.
      FHIR_IGS: '',
      LOG_LEVEL: 'warn',
      HOST: '127.0.0.1',
      ...env,
      PORT: String(port),
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const url = `http://127.0.0.1:${port}`;
  // A minute: migrating a fresh database and loading the profiles takes seconds, more on a busy machine.
  for (let i = 0; i < 600; i++) {
    if (child.exitCode !== null) throw new Error(`server exited with ${child.exitCode}`);
    const ready = await fetch(`${url}/readyz`).then(
      (r) => r.ok,
      () => false,
    );
    if (ready) return { url, child, exited };
    await new Promise((r) => setTimeout(r, 100));
  }
  // Killed outright: one stuck in its start may not get to its SIGTERM handler, and would outlive the run.
  child.kill('SIGKILL');
  throw new Error('server did not become ready');
}
