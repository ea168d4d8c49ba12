import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { freshPostgresDatabase, TEST_KEY_ENCRYPTION_KEY } from './harness.js';

/** `maillage import` as an integrator runs it: a folder of NDJSON into a PostgreSQL database. */
describe.skipIf(!process.env.TEST_DATABASE_URL)('maillage import on postgres', () => {
  const dir = mkdtempSync(join(tmpdir(), 'maillage-import-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('imports the folder’s files, prints the refused lines with their file and number, and the counts', { timeout: 120_000 }, async () => {
    const database = await freshPostgresDatabase('migrated');
    try {
      writeFileSync(join(dir, 'Patient.ndjson'), '{"resourceType":"Patient","id":"c1"}\n{"resourceType":"Patient","id":"c2","birthDate":"soon"}\n');
      writeFileSync(
        join(dir, 'Observation.ndjson'),
        '{"resourceType":"Observation","id":"co1","status":"final","code":{"text":"x"},"subject":{"reference":"Patient/c1"}}\n',
      );
      writeFileSync(join(dir, 'notes.txt'), 'not imported');
      const { stdout, stderr } = await promisify(execFile)(process.execPath, ['--import', 'tsx', 'cli/maillage.ts', 'import', dir], {
        env: { ...process.env, DATABASE_URL: database.url, LOG_LEVEL: 'warn', KEY_ENCRYPTION_KEY: TEST_KEY_ENCRYPTION_KEY, SEED: 'none' },
      });
      expect(stdout).toContain('Observation\t1');
      expect(stdout).toContain('Patient\t1');
      expect(stdout).toMatch(/Imported 2 resources \(1 lines refused\)/);
      expect(stderr).toMatch(/Patient\.ndjson, line 2: .*birthDate/);
      const c = new pg.Client({ connectionString: database.url });
      await c.connect();
      const rows = (await c.query(`SELECT type, id FROM resource WHERE type IN ('Patient', 'Observation') ORDER BY id`)).rows;
      await c.end();
      expect(rows).toEqual([
        { type: 'Patient', id: 'c1' },
        { type: 'Observation', id: 'co1' },
      ]);
    } finally {
      await database.drop();
    }
  });
});
