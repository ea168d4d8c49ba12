import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEMO } from '../seed/load.js';
import type { Config } from '../server/config.js';
import { createLogger } from '../server/logger.js';
import { startServer } from '../server/main.js';
import { openPglite, openPostgres, type PgliteDatabase } from '../server/store/db.js';
import { migrate } from '../server/store/migrate.js';
import { createPostgresDatabase, dropPostgresDatabase, FRENCH, freePort, testConfig, type ServerSnapshot, type Snapshots } from './harness.js';

/**
 * The first starts whose databases are kept, their settings (beside testConfig's), and the
 * snapshot each starts from: a start writes, in order, Maillage's profiles, the NOS terminology,
 * the French guides, so each begins where a smaller one ended (as a first start would have got
 * there); the demo loads only into an empty database.
 */
const LOADED = [
  ['loaded', {}, 'migrated'],
  ['loaded-nos', { terminology: 'nos' }, 'loaded'],
  ['loaded-fr', FRENCH, 'loaded-nos'],
  ['demo', { seed: 'demo' }, 'migrated'],
] as const satisfies readonly (readonly [ServerSnapshot, Partial<Config>, ServerSnapshot])[];

/** PGlite data directories dumped into files of `dir`. */
export async function pgliteSnapshots(dir: string): Promise<Snapshots['pglite']> {
  const files = {} as Snapshots['pglite'];
  const dumps = new Map<ServerSnapshot, Blob>();
  const keep = async (name: keyof Snapshots['pglite'], db: PgliteDatabase) => {
    const dump = await db.dump();
    files[name] = join(dir, `${name}.tar`);
    writeFileSync(files[name], Buffer.from(await dump.arrayBuffer()));
    return dump;
  };
  const db = await openPglite('memory://');
  try {
    await keep('empty', db);
    await migrate(db);
    dumps.set('migrated', await keep('migrated', db));
  } finally {
    await db.close();
  }
  for (const [name, settings, from] of LOADED) {
    const loaded = await openPglite('memory://', dumps.get(from));
    const server = await startServer(testConfig(await freePort(), settings), createLogger('silent'), { database: loaded, demo: DEMO });
    try {
      dumps.set(name, await keep(name, loaded));
    } finally {
      await server.close();
    }
  }
  return files;
}

/**
 * PostgreSQL databases, to be copied by CREATE DATABASE … TEMPLATE; `created` gets the name of
 * each as it is created (they are dropped at the end of the run, or if this fails).
 */
export async function postgresTemplates(created: string[]): Promise<NonNullable<Snapshots['postgres']>> {
  const create = async (template?: string) => {
    const database = await createPostgresDatabase('maillage_snapshot', template);
    created.push(database.name);
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
  for (const [name, settings, from] of LOADED) {
    const loaded = await create(names[from]);
    const server = await startServer(testConfig(await freePort(), { databaseUrl: loaded.url, ...settings }), createLogger('silent'), { demo: DEMO });
    await server.close();
    names[name] = loaded.name;
  }
  return names;
}

/** Drops the databases postgresTemplates created. */
export async function dropTemplates(created: string[]): Promise<void> {
  for (const name of created) await dropPostgresDatabase(name);
}
