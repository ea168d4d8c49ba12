import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { DATABASES, freshPostgresDatabase } from '../../tests/harness.js';
import { auditEvent } from '../auth/audit-event.js';
import { openPglite, openPostgres } from '../store/db.js';
import { migrate } from '../store/migrate.js';
import { AuditLog } from './audit.js';

const read = (patient: string) =>
  auditEvent({ access: { clientId: 'lgc', scopes: [], sub: 'lgc' } as never, interaction: 'read', resources: [], patients: [patient], started: new Date(), status: 200 }, 'http://x/fhir');

/** The AuditEvents of the reads of a patient, as stored. */
const READS_OF = `SELECT count(*)::int AS n FROM sp_reference x JOIN resource r ON r.rid = x.rid WHERE x.type = 'AuditEvent' AND x.param = 'patient' AND x.target_id = $1`;

describe.each(DATABASES)('the audit log on %s', (kind) => {
  it('stores queued records in batches, and at closing waits for the interactions still running', async () => {
    const pg = kind === 'postgres' ? await freshPostgresDatabase() : undefined;
    const db = pg ? openPostgres(pg.url, 2) : await openPglite('memory://');
    try {
      await migrate(db);
      const log = new AuditLog({ db, baseUrl: 'http://x/fhir', log: pino({ level: 'silent' }) });
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
    } finally {
      await db.close();
      await pg?.drop();
    }
  });
});
