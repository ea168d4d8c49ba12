import pg from 'pg';
import { GENERATOR_VERSION } from '../../seed/territory.js';
import { LATEST_VERSION } from '../../server/store/migrate.js';

/** Where bench databases are created; they are named maillage_bench_*. */
export const ADMIN_URL = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

/** A loaded data set is kept as a template database and copied for each run, so it loads once. */
export function dataSetName(patients: number, seed: number): string {
  return `maillage_bench_${patients}p_s${seed}`;
}

/** Resources stored in a database (read on a short-lived connection: a template must have none). */
export async function resourceCount(name: string): Promise<number> {
  const c = new pg.Client({ connectionString: databaseUrl(name) });
  await c.connect();
  try {
    return (await c.query<{ n: number }>('SELECT count(*)::int AS n FROM resource')).rows[0].n;
  } finally {
    await c.end();
  }
}

export const RUN_DATABASE = 'maillage_bench_run';

/** What a kept data set is marked with once complete: the generator that made it and the schema it is on. */
const fingerprint = (schema: number) => `generator ${GENERATOR_VERSION}, schema ${schema}`;

export function databaseUrl(name: string): string {
  const url = new URL(ADMIN_URL);
  url.pathname = `/${name}`;
  return url.toString();
}

async function admin<T>(fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: ADMIN_URL });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

/**
 * A kept data set: `ready` when complete (the mark is set last) for this generator and schema,
 * `migrate` when on an older schema (migrations keep the data: no need to load it again),
 * `load` when missing, incomplete or made by another generator. One on a newer schema is an
 * error: an older checkout would drop a data set that took a quarter of an hour to load.
 */
export function dataSetState(name: string): Promise<'ready' | 'migrate' | 'load'> {
  return admin(async (c) => {
    const { rows } = await c.query<{ note: string | null }>(`SELECT shobj_description(oid, 'pg_database') AS note FROM pg_database WHERE datname = $1`, [name]);
    const schema = Number(/^generator (\d+), schema (\d+)$/.exec(rows[0]?.note ?? '')?.[2] ?? NaN);
    if (!rows[0]?.note?.startsWith(`generator ${GENERATOR_VERSION},`) || Number.isNaN(schema)) return 'load';
    if (schema > LATEST_VERSION) {
      throw new Error(`${name} is at schema ${schema}, newer than this checkout's ${LATEST_VERSION}: bench from a newer checkout, or pass --reload`);
    }
    return schema === LATEST_VERSION ? 'ready' : 'migrate';
  });
}

export function recreateDatabase(name: string, template?: string): Promise<void> {
  return admin(async (c) => {
    await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    // FILE_COPY copies the template's files instead of logging every page: much faster for a large one.
    await c.query(`CREATE DATABASE ${name}${template ? ` TEMPLATE ${template} STRATEGY FILE_COPY` : ''}`);
  });
}

export function dropDatabase(name: string): Promise<void> {
  return admin(async (c) => {
    await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  });
}

/** After loading: fresh planner statistics and visibility map, then the mark that the data set is complete. */
export async function sealDataSet(name: string): Promise<void> {
  const c = new pg.Client({ connectionString: databaseUrl(name) });
  await c.connect();
  try {
    await c.query('VACUUM ANALYZE');
  } finally {
    await c.end();
  }
  await admin((a) => a.query(`COMMENT ON DATABASE ${name} IS '${fingerprint(LATEST_VERSION)}'`));
}

export function databaseSize(name: string): Promise<number> {
  return admin(async (c) => Number((await c.query<{ size: string }>('SELECT pg_database_size($1) AS size', [name])).rows[0].size));
}

export function postgresVersion(): Promise<string> {
  return admin(async (c) => (await c.query<{ v: string }>(`SELECT current_setting('server_version') AS v`)).rows[0].v);
}
