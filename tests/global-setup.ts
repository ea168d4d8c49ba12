import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TestProject } from 'vitest/node';
import { DEMO } from '../seed/load.js';
import type { Config } from '../server/config.js';
import { createLogger } from '../server/logger.js';
import { startServer } from '../server/main.js';
import { openPglite, openPostgres, type PgliteDatabase } from '../server/store/db.js';
import { migrate } from '../server/store/migrate.js';
import { createPostgresDatabase, FRENCH, freePort, testConfig, type PostgresDatabase, type ServerSnapshot, type Snapshots } from './harness.js';

/** The first starts whose databases are kept, and their settings (beside testConfig's). */
const LOADED = [
  ['loaded', {}],
  ['loaded-nos', { terminology: 'nos' }],
  ['loaded-fr', FRENCH],
  ['demo', { seed: 'demo' }],
] as const satisfies readonly (readonly [ServerSnapshot, Partial<Config>])[];

/**
 * Builds, once per run, the databases the test servers start from (harness.ts, Snapshot): initdb,
 * the migrations, Maillage's profiles and the terminology cost a test server seconds each, the
 * same for every one. The loaded ones are written by real first starts of a test server.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  // The French packages from the shared folder (CI: ../shared/fhir), never from the network.
  process.env.FHIR_PACKAGES ||= fileURLToPath(new URL('../../shared/fhir', import.meta.url));
  process.env.FHIR_PACKAGE_REGISTRY ??= 'off';
  const dir = mkdtempSync(join(tmpdir(), 'maillage-snapshots-'));
  const templates: PostgresDatabase[] = [];
  const teardown = async () => {
    for (const t of templates) await t.drop();
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    // One after the other: a process's registry of SearchParameters follows one database at a time.
    const pglite = await pgliteSnapshots(dir);
    const postgres = process.env.TEST_DATABASE_URL ? await postgresTemplates(templates) : undefined;
    project.provide('snapshots', { pglite, ...(postgres ? { postgres } : {}) });
  } catch (err) {
    await teardown();
    throw err;
  }
  return teardown;
}

/** PGlite data directories dumped into files of `dir`. */
async function pgliteSnapshots(dir: string): Promise<Snapshots['pglite']> {
  const files = {} as Snapshots['pglite'];
  const keep = async (name: keyof Snapshots['pglite'], db: PgliteDatabase) => {
    const dump = await db.dump();
    files[name] = join(dir, `${name}.tar`);
    writeFileSync(files[name], Buffer.from(await dump.arrayBuffer()));
    return dump;
  };
  const db = await openPglite('memory://');
  let migrated: Blob;
  try {
    await keep('empty', db);
    await migrate(db);
    migrated = await keep('migrated', db);
  } finally {
    await db.close();
  }
  for (const [name, settings] of LOADED) {
    const loaded = await openPglite('memory://', migrated);
    const server = await startServer(testConfig(await freePort(), settings), createLogger('silent'), { database: loaded, demo: DEMO });
    try {
      await keep(name, loaded);
    } finally {
      await server.close();
    }
  }
  return files;
}

/** PostgreSQL databases copied by CREATE DATABASE … TEMPLATE, added to `created` for the teardown. */
async function postgresTemplates(created: PostgresDatabase[]): Promise<NonNullable<Snapshots['postgres']>> {
  const create = async (template?: string) => {
    const database = await createPostgresDatabase('maillage_snapshot', template);
    created.push(database);
    return database;
  };
  const migrated = await create();
  const db = openPostgres(migrated.url, 1);
  try {
    await migrate(db);
  } finally {
    await db.close();
  }
  const names = { migrated: migrated.name } as NonNullable<Snapshots['postgres']>;
  for (const [name, settings] of LOADED) {
    const loaded = await create(migrated.name);
    const server = await startServer(testConfig(await freePort(), { databaseUrl: loaded.url, ...settings }), createLogger('silent'), { demo: DEMO });
    await server.close();
    names[name] = loaded.name;
  }
  return names;
}
