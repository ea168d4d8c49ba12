import { afterAll, beforeAll } from 'vitest';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import pg from 'pg';
import { fhirBaseOf, loadConfig, type Config } from '../server/config.js';
import { createLogger } from '../server/logger.js';
import { DEMO } from '../seed/load.js';
import { startServer, type RunningServer } from '../server/main.js';
import { openPglite, openPostgres, type Database } from '../server/store/db.js';

/** The databases every storage test runs on: PGlite always, PostgreSQL when TEST_DATABASE_URL is set. */
export const DATABASES: ('pglite' | 'postgres')[] = process.env.TEST_DATABASE_URL ? ['pglite', 'postgres'] : ['pglite'];

/** Creates an empty PostgreSQL database for one test file; returns its URL and a dropper. */
export async function freshPostgresDatabase(): Promise<{ url: string; drop: () => Promise<void> }> {
  const adminUrl = process.env.TEST_DATABASE_URL as string;
  const name = `maillage_test_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: async () => {
      const c = new pg.Client({ connectionString: adminUrl });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    },
  };
}

/** Runs `fn` on an empty database of the kind (PGlite in memory, or a fresh PostgreSQL database), dropped after. */
export async function withDatabase(kind: 'pglite' | 'postgres', fn: (db: Database) => Promise<void>): Promise<void> {
  const pg = kind === 'postgres' ? await freshPostgresDatabase() : undefined;
  const db = pg ? openPostgres(pg.url, 2) : await openPglite('memory://');
  try {
    await fn(db);
  } finally {
    await db.close();
    await pg?.drop();
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

/** Starts a real server on a free port over a fresh database of the given kind. */
export async function startTestServer(kind: 'pglite' | 'postgres', overrides: Partial<Config> = {}): Promise<TestServer> {
  const pgDb = kind === 'postgres' ? await freshPostgresDatabase() : undefined;
  const port = await freePort();
  const config: Config = {
    ...loadConfig({}),
    port,
    host: '127.0.0.1',
    origin: `http://127.0.0.1:${port}`,
    dataDir: 'memory://',
    databaseUrl: pgDb?.url,
    seed: 'none',
    // Installing the NOS terminology costs a second per start: the tests that need it ask for it.
    terminology: 'none',
    auth: false,
    keyEncryptionKeys: [TEST_KEY_ENCRYPTION_KEY],
    logLevel: process.env.TEST_LOG_LEVEL ?? 'silent',
    ...overrides,
  };
  const running = await startServer(config, createLogger(config.logLevel), DEMO);
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

/** Runs `maillage serve` in its own process (from source, through tsx) and waits until it is ready. */
export async function spawnServer(env: Record<string, string>): Promise<ServerProcess> {
  const { spawn } = await import('node:child_process');
  const port = await freePort();
  const child = spawn(process.execPath, ['--import', 'tsx', 'cli/maillage.ts', 'serve'], {
    env: { ...process.env, AUTH: 'off', KEY_ENCRYPTION_KEY: TEST_KEY_ENCRYPTION_KEY, SEED: 'none', TERMINOLOGY: 'none', LOG_LEVEL: 'warn', HOST: '127.0.0.1', ...env, PORT: String(port) },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 300; i++) {
    if (child.exitCode !== null) throw new Error(`server exited with ${child.exitCode}`);
    const ready = await fetch(`${url}/readyz`).then((r) => r.ok, () => false);
    if (ready) return { url, child, exited };
    await new Promise((r) => setTimeout(r, 100));
  }
  child.kill();
  throw new Error('server did not become ready');
}
