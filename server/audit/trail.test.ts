import { describe, expect, it } from 'vitest';
import { DATABASES, withDatabase } from '../../tests/harness.js';
import { migrate } from '../store/migrate.js';
import { migrations } from '../store/migrations/index.js';
import { auditEvent, type AccessRecord } from './event.js';
import { readTrail, writeTrail } from './trail.js';

const record: AccessRecord = {
  actor: { clientId: 'lgc', role: 'role-1', fhirUser: 'Practitioner/pr-1' },
  interaction: 'search-type',
  resources: [],
  patients: ['p1', 'p2'],
  query: 'subject=Patient/p1',
  started: new Date('2026-11-24T10:00:00.000Z'),
  status: 200,
  breakGlass: 'Chute',
  site: 'http://x/fhir',
};

/** An AuditEvent as the server stored it before migration 16: a resource, its history row and an index row. */
const OLD_ID = '0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b';
const old = {
  resourceType: 'AuditEvent',
  id: OLD_ID,
  meta: { versionId: '1', lastUpdated: '2025-01-02T03:04:05.100Z' },
  type: { system: 'http://terminology.hl7.org/CodeSystem/audit-event-type', code: 'rest' },
  subtype: [{ system: 'http://hl7.org/fhir/restful-interaction', code: 'read' }],
  action: 'R',
  recorded: '2025-01-02T03:04:05.000Z',
  outcome: '0',
  agent: [
    { who: { reference: 'PractitionerRole/role-1' }, requestor: true },
    { who: { identifier: { system: 'https://fhir.maillage.fr/oauth-client', value: 'lgc' } }, requestor: false },
  ],
  source: { observer: { display: 'Maillage' } },
  entity: [{ what: { reference: 'Patient/p9' } }, { what: { reference: 'Observation/o1/_history/2' } }],
};

describe.each(DATABASES)('the audit trail on %s', (kind) => {
  it('gives back the AuditEvent of a record as built when it was recorded', async () => {
    await withDatabase(kind, async (db) => {
      await migrate(db);
      const recorded = new Date('2026-11-24T10:00:00.250Z');
      const id = '0193a1b2-c3d4-7e5f-8a9b-000000000001';
      await writeTrail(db, [{ id, recorded, record }]);
      const stored = await readTrail(db, id);
      const { resourceType, ...event } = auditEvent(record, recorded);
      expect(JSON.parse(stored?.content as string)).toEqual({ resourceType, id, meta: { versionId: '1', lastUpdated: recorded.toISOString() }, ...event });
      expect(stored).toMatchObject({ type: 'AuditEvent', id, version: 1, lastUpdated: recorded, deleted: false });
      const [row] = await db.query<Record<string, unknown>>('SELECT type, subtype, action, outcome, patients, agents, client, entities FROM audit_trail');
      expect(row).toEqual({
        type: 'http://terminology.hl7.org/CodeSystem/audit-event-type|rest',
        subtype: ['http://hl7.org/fhir/restful-interaction|search-type'],
        action: 'R',
        outcome: '0',
        patients: ['p1', 'p2'],
        agents: ['PractitionerRole/role-1'],
        client: 'lgc',
        entities: [],
      });
    });
  });

  it('takes in, at migration 16, the AuditEvents stored before as resources, searchable and as they were', async () => {
    await withDatabase(kind, async (db) => {
      await db.transaction(async (tx) => {
        await tx.query('CREATE TABLE schema_migrations (version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())');
        for (const m of migrations.filter((x) => x.version < 16)) {
          for (const sql of m.statements) await tx.query(sql);
          await tx.query('INSERT INTO schema_migrations (version, name) VALUES ($1, $2)', [m.version, m.name]);
        }
        const [{ rid }] = await tx.query<{ rid: number }>(
          `INSERT INTO resource (type, id, version, last_updated, content) VALUES ('AuditEvent', $1, 1, $2, $3) RETURNING rid`,
          [OLD_ID, old.meta.lastUpdated, JSON.stringify(old)],
        );
        await tx.query(
          `INSERT INTO resource_version (rid, version, type, id, last_updated, method, content) VALUES ($1, 1, 'AuditEvent', $2, $3, 'POST', $4)`,
          [rid, OLD_ID, old.meta.lastUpdated, JSON.stringify(old)],
        );
        await tx.query(`INSERT INTO sp_reference (rid, type, param, target_type, target_id) VALUES ($1, 'AuditEvent', 'entity', 'Patient', 'p9')`, [rid]);
      });
      expect(await migrate(db)).toContain(16);
      expect((await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM resource WHERE type = 'AuditEvent'`))[0].n).toBe(0);
      expect((await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM sp_reference WHERE type = 'AuditEvent'`))[0].n).toBe(0);
      const stored = await readTrail(db, OLD_ID);
      expect(JSON.parse(stored?.content as string)).toEqual(old);
      expect(stored?.lastUpdated.toISOString()).toBe(old.meta.lastUpdated);
      const [row] = await db.query<Record<string, unknown>>(
        'SELECT recorded, type, subtype, action, outcome, patients, agents, client, entities FROM audit_trail',
      );
      expect(row).toEqual({
        recorded: new Date(old.recorded),
        type: 'http://terminology.hl7.org/CodeSystem/audit-event-type|rest',
        subtype: ['http://hl7.org/fhir/restful-interaction|read'],
        action: 'R',
        outcome: '0',
        patients: ['p9'],
        agents: ['PractitionerRole/role-1'],
        client: 'lgc',
        entities: ['Observation/o1'],
      });
    });
  });
});
