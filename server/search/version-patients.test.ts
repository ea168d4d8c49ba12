import type { Resource } from '@medplum/fhirtypes';
import { describe, expect, it } from 'vitest';
import { DATABASES, withDatabase } from '../../tests/harness.js';
import type { Queryable } from '../store/db.js';
import { migrate } from '../store/migrate.js';
import { migrations } from '../store/migrations/index.js';
import { writeIndex } from '../store/search-index.js';
import { extractIndex } from './extract.js';
import { reindex } from './reindex.js';

const BASE = 'http://x/fhir';

/** Writes a resource's versions as the store did before migration 17 (no `patients`): its row, history rows, and the index of the last. */
async function writeOld(q: Queryable, versions: (Resource | null)[]): Promise<void> {
  const first = versions[0] as Resource;
  const last = versions[versions.length - 1];
  const time = (n: number) => new Date(Date.UTC(2025, 0, 1, 0, 0, n)).toISOString();
  const [{ rid }] = await q.query<{ rid: number }>(
    `INSERT INTO resource (type, id, version, last_updated, deleted, content) VALUES ($1, $2, $3, $4, $5, $6) RETURNING rid`,
    [first.resourceType, first.id, versions.length, time(versions.length), last === null, last && JSON.stringify(last)],
  );
  for (const [i, v] of versions.entries()) {
    await q.query(`INSERT INTO resource_version (rid, version, type, id, last_updated, method, content) VALUES ($1, $2, $3, $4, $5, $6, $7)`, [
      rid,
      i + 1,
      first.resourceType,
      first.id,
      time(i + 1),
      v === null ? 'DELETE' : 'PUT',
      v && JSON.stringify(v),
    ]);
  }
  await writeIndex(q, rid, first.resourceType, last && extractIndex(last, BASE));
}

const obs = (id: string, subject: string, more: Record<string, unknown> = {}): Resource =>
  ({ resourceType: 'Observation', id, status: 'final', code: { text: id }, subject: { reference: subject }, ...more }) as Resource;

describe.each(DATABASES)('migration 17 on %s', (kind) => {
  it('gives the versions stored before the patients they name', async () => {
    await withDatabase(kind, async (db) => {
      await db.transaction(async (tx) => {
        await tx.query('CREATE TABLE schema_migrations (version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())');
        for (const m of migrations.filter((x) => x.version < 17)) {
          for (const sql of m.statements) await tx.query(sql);
          await tx.query('INSERT INTO schema_migrations (version, name) VALUES ($1, $2)', [m.version, m.name]);
        }
        // Moved from PA to PB; its first version also names PZ outside its compartment (focus):
        // an older version is read from its content, every Patient reference in it.
        await writeOld(tx, [obs('moved', 'Patient/pa', { focus: [{ reference: 'Patient/pz' }] }), obs('moved', `${BASE}/Patient/pb`)]);
        // Current: only its compartment's references (subject, performer), not its focus.
        await writeOld(tx, [obs('shared', 'Patient/pa', { performer: [{ reference: 'Patient/pc' }], focus: [{ reference: 'Patient/pz' }] })]);
        await writeOld(tx, [obs('gone', 'Patient/pa/_history/3'), null]);
        await writeOld(tx, [{ resourceType: 'Patient', id: 'pa' } as Resource, { resourceType: 'Patient', id: 'pa', active: true } as Resource, null]);
        await writeOld(tx, [{ resourceType: 'Organization', id: 'org', name: 'Patient/pa' } as Resource]);
        await writeOld(tx, [{ resourceType: 'Task', id: 'none', status: 'draft', intent: 'order' } as Resource]);
      });
      // 17, then the later migrations.
      expect((await migrate(db)).filter((v) => v <= 17)).toEqual([17]);
      const rows = await db.query<{ v: string; patients: string[] }>(
        `SELECT type || '/' || id || '/' || version AS v, patients FROM resource_version ORDER BY type, id, version`,
      );
      expect(Object.fromEntries(rows.map((r) => [r.v, r.patients]))).toEqual({
        'Observation/gone/1': ['pa'],
        'Observation/gone/2': ['pa'],
        'Observation/moved/1': ['pa', 'pz'],
        'Observation/moved/2': ['pb'],
        'Observation/shared/1': ['pa', 'pc'],
        'Organization/org/1': [],
        'Patient/pa/1': ['pa'],
        'Patient/pa/2': ['pa'],
        'Patient/pa/3': ['pa'],
        'Task/none/1': [],
      });
      // A reindex (with other parameters, or another reading of references) sets the current
      // versions' patients again from the new index rows.
      await db.query(`UPDATE resource_version SET patients = '{pz}' WHERE id IN ('moved', 'shared')`);
      await reindex(db, BASE, 'Observation');
      const after = await db.query<{ v: string; patients: string[] }>(
        `SELECT id || '/' || version AS v, patients FROM resource_version WHERE id IN ('moved', 'shared') ORDER BY id, version`,
      );
      expect(after).toEqual([
        { v: 'moved/1', patients: ['pz'] },
        { v: 'moved/2', patients: ['pb'] },
        { v: 'shared/1', patients: ['pa', 'pc'] },
      ]);
    });
  });
});
