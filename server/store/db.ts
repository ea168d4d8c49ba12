import { createHash } from 'node:crypto';
import pg from 'pg';
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
}

export interface Database extends Queryable {
  readonly kind: 'postgres' | 'pglite';
  /** Runs fn in one database transaction; committed if fn resolves, rolled back if it throws. */
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T>;
  close(): Promise<void>;
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

export function openPostgres(url: string, poolSize: number): Database {
  // No JIT: the access checks' correlated subplans carry cost estimates far above what they
  // read, and compiling them takes longer than running them (hundreds of ms).
  // A connection is replaced after MAX_USES checkouts: what it keeps prepared stays bounded.
  const pool = new pg.Pool({ connectionString: url, max: poolSize, options: '-c jit=off', maxUses: MAX_USES });
  // An idle client losing its connection must not crash the process; the pool replaces it.
  pool.on('error', () => undefined);
  return {
    kind: 'postgres',
    async query(sql, params, options) {
      return (await pool.query(statement(sql, params, options))).rows;
    },
    async transaction(fn) {
      for (let attempt = 1; ; attempt++) {
        const client = await pool.connect();
        try {
          await client.query('BEGIN');
          const tx: Queryable = { query: async (sql, params, options) => (await client.query(statement(sql, params, options))).rows };
          const result = await fn(tx);
          await client.query('COMMIT');
          return result;
        } catch (err) {
          await client.query('ROLLBACK').catch(() => undefined);
          const code = (err as { code?: string }).code;
          if (code && RETRYABLE.has(code) && attempt < MAX_ATTEMPTS) {
            await new Promise((r) => setTimeout(r, Math.random() * 10 * attempt));
            continue;
          }
          throw err;
        } finally {
          client.release();
        }
      }
    },
    close: () => pool.end(),
  };
}

export async function openPglite(dataDir: string): Promise<Database> {
  const db = await PGlite.create(dataDir, {
    extensions: { pg_trgm },
    parsers: { [INT8]: (v: string) => Number(v) },
  });
  // PGlite is one connection: every query and transaction is already serialised by the library.
  return {
    kind: 'pglite',
    async query(sql, params) {
      return (await db.query(sql, params as unknown[])).rows as never[];
    },
    transaction(fn) {
      return db.transaction((tx) => fn({ query: async (sql, params) => (await tx.query(sql, params as unknown[])).rows as never[] }));
    },
    close: () => db.close(),
  };
}
