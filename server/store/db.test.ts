import { describe, expect, it } from 'vitest';
import { DATABASES, freshPostgresDatabase } from '../../tests/harness.js';
import { openPostgres, RECURRING } from './db.js';

describe.runIf(DATABASES.includes('postgres'))('statements on PostgreSQL', () => {
  it('a recurring text is prepared once it comes again, a one-off text never', async () => {
    const pg = await freshPostgresDatabase();
    // One connection: the prepared statements seen are all of the pool's.
    const db = openPostgres(pg.url, 1);
    try {
      const prepared = async () => (await db.query<{ n: number }>('SELECT count(*)::int AS n FROM pg_prepared_statements'))[0].n;
      const text = `SELECT $1::int + 1 AS v /* ${Math.random()} */`;
      expect(await db.query(text, [1], RECURRING)).toEqual([{ v: 2 }]);
      expect(await prepared()).toBe(0);
      expect(await db.query(text, [2], RECURRING)).toEqual([{ v: 3 }]);
      expect(await prepared()).toBe(1);
      await db.query(`SELECT $1::int AS v /* ${Math.random()} */`, [1], RECURRING);
      expect(await prepared()).toBe(1);
      await db.query('SELECT $1::int AS v', [1], { prepare: true });
      expect(await prepared()).toBe(2);
    } finally {
      await db.close();
      await pg.drop();
    }
  });
});
