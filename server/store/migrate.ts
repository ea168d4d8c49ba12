import type { Database, Queryable } from './db.js';
import { migrations } from './migrations/index.js';

// Any constant works; it only has to be the same for every Maillage process on the database.
const MIGRATION_LOCK = 4_271_828;

export const LATEST_VERSION = migrations[migrations.length - 1].version;

/** Applies pending migrations in one transaction; concurrent starters wait on an advisory lock. */
export async function migrate(db: Database): Promise<number[]> {
  return db.transaction(async (tx) => {
    await tx.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
    await tx.query(
      `CREATE TABLE IF NOT EXISTS schema_migrations (
         version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`,
    );
    const current = await schemaVersion(tx);
    const applied: number[] = [];
    for (const m of migrations) {
      if (m.version <= current) continue;
      for (const sql of m.statements) await tx.query(sql);
      await tx.query('INSERT INTO schema_migrations (version, name) VALUES ($1, $2)', [m.version, m.name]);
      applied.push(m.version);
    }
    return applied;
  });
}

export async function schemaVersion(q: Queryable): Promise<number> {
  const rows = await q.query<{ v: number | null }>('SELECT max(version) AS v FROM schema_migrations');
  return rows[0]?.v ?? 0;
}
