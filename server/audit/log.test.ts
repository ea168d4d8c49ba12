import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { DATABASES, withDatabase } from '../../tests/harness.js';
import { migrate } from '../store/migrate.js';
import type { AccessRecord } from './event.js';
import { AuditLog } from './log.js';
import { purgeTrail, trailEntry, writeTrail } from './trail.js';

const read = (patient: string): AccessRecord => ({
  actor: { clientId: 'lgc' },
  interaction: 'read',
  resources: [`Patient/${patient}/_history/1`],
  patients: [patient],
  started: new Date(),
  status: 200,
  site: 'http://x/fhir',
});

/** The AuditEvents of the reads of a patient, as stored. */
const READS_OF = `SELECT count(*)::int AS n FROM audit_trail WHERE patients @> ARRAY[$1::text]`;

describe.each(DATABASES)('the audit log on %s', (kind) => {
  it('stores queued records in batches, and at closing waits for the interactions still running', async () => {
    await withDatabase(kind, async (db) => {
      await migrate(db);
      const log = new AuditLog({ db, log: pino({ level: 'silent' }) });
      for (let i = 0; i < 250; i++) log.queue(read('many'));
      await log.flush();
      expect((await db.query<{ n: number }>(READS_OF, ['many']))[0].n).toBe(250);

      // A read still running when the server closes (its client may be gone): its record comes after.
      const running = log.during(async () => {
        await new Promise((r) => setTimeout(r, 100));
        log.queue(read('late'));
      });
      await log.close();
      expect((await db.query<{ n: number }>(READS_OF, ['late']))[0].n).toBe(1);
      await running;
    });
  });
});

describe.each(DATABASES)('the retention of the audit trail on %s', (kind) => {
  it('purges the events older than the retention period at start, and only those', async () => {
    await withDatabase(kind, async (db) => {
      await migrate(db);
      const daysAgo = (days: number) => new Date(Date.now() - days * 86_400_000);
      await writeTrail(
        db,
        [40, 31, 29, 1].map((days) => ({ ...trailEntry(read(`d${days}`)), recorded: daysAgo(days) })),
      );
      const kept = async () => (await db.query<{ p: string }>('SELECT patients[1] AS p FROM audit_trail ORDER BY recorded')).map((r) => r.p);
      // Without a retention period, nothing goes.
      await new AuditLog({ db, log: pino({ level: 'silent' }) }).close();
      expect(await kept()).toEqual(['d40', 'd31', 'd29', 'd1']);
      await new AuditLog({ db, log: pino({ level: 'silent' }) }, 30).close();
      expect(await kept()).toEqual(['d29', 'd1']);
      // Slice by slice, whatever their number.
      await writeTrail(
        db,
        Array.from({ length: 25 }, () => ({ ...trailEntry(read('old')), recorded: daysAgo(60) })),
      );
      expect(await purgeTrail(db, daysAgo(30), 10)).toBe(25);
      expect(await kept()).toEqual(['d29', 'd1']);
    });
  });
});
