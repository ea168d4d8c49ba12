import type { AuditEvent } from '@medplum/fhirtypes';
import { isUuid, recordId } from '../fhir/ids.js';
import type { Database, Queryable } from '../store/db.js';
import type { StoredVersion } from '../store/resources.js';
import { actionOf, auditEvent, outcomeOf, subtypeOf, typeOf, userWho, type AccessRecord } from './event.js';

/** The one resource type the trail holds. */
export const TRAIL_TYPE = 'AuditEvent';

/** An AuditEvent to store: its id, when it was recorded, and what it records. */
export interface TrailEntry {
  id: string;
  recorded: Date;
  record: AccessRecord;
}

/** A record as the trail stores it: a time-ordered id, and the time it was recorded (now). */
export const trailEntry = (record: AccessRecord): TrailEntry => ({ id: recordId(), recorded: new Date(), record });

/** A row of the trail as read: the AuditEvent is built from `record`, or was stored whole (`content`, events from before the trail). */
export interface TrailRow {
  id: string;
  recorded: Date;
  patients: string[];
  agents: string[];
  entities: string[];
  /** The access record as stored: without its patients (the column) and with dates as text. */
  record: (Omit<AccessRecord, 'patients' | 'started' | 'until'> & { started: string; until?: string }) | null;
  content: string | null;
}

/** The columns of a TrailRow, from `audit_trail <alias>`. */
export const trailColumns = (alias: string) =>
  `${alias}.id, ${alias}.recorded, ${alias}.patients, ${alias}.agents, ${alias}.entities, ${alias}.record, ${alias}.content`;

const unversioned = (ref: string) => ref.replace(/\/_history\/[^/]*$/, '');

/**
 * Stores AuditEvents in one statement, whatever their number: one row each, the search values
 * as columns (migration 016 says why).
 */
export async function writeTrail(q: Queryable, entries: TrailEntry[]): Promise<void> {
  if (!entries.length) return;
  const rows = entries.map(({ id, recorded, record: r }) => {
    const [type, subtype] = [typeOf(r.interaction), subtypeOf(r.interaction, r.operation)];
    const { patients, ...rest } = r;
    const who = userWho(r.actor)?.reference;
    return {
      id,
      recorded,
      type: `${type.system}|${type.code}`,
      subtype: [`${subtype.system}|${subtype.code}`],
      action: actionOf(r.interaction),
      outcome: outcomeOf(r.status),
      patients,
      agents: who ? [who] : [],
      client: r.actor.clientId,
      entities: r.resources.map(unversioned),
      record: rest,
    };
  });
  await q.query(
    `INSERT INTO audit_trail (id, recorded, type, subtype, action, outcome, patients, agents, client, entities, record)
     SELECT * FROM json_to_recordset($1::json) AS x(id uuid, recorded timestamptz, type text, subtype text[], action text, outcome text,
                                                    patients text[], agents text[], client text, entities text[], record json)`,
    [JSON.stringify(rows)],
    { prepare: true },
  );
}

/** The AuditEvent of a row, as JSON text: built from its record, with the meta of a resource's first version. */
export function trailContent(row: TrailRow): string {
  if (row.content !== null) return row.content;
  const { started, until, ...r } = row.record as NonNullable<TrailRow['record']>;
  const event = auditEvent({ ...r, patients: row.patients, started: new Date(started), ...(until ? { until: new Date(until) } : {}) }, row.recorded);
  const { resourceType, ...rest } = event;
  const stored: AuditEvent = { resourceType, id: row.id, meta: { versionId: '1', lastUpdated: row.recorded.toISOString() }, ...rest };
  return JSON.stringify(stored);
}

/** A row as the first and only version of an AuditEvent resource. */
export function trailVersion(row: TrailRow): StoredVersion {
  const content = trailContent(row);
  // An event from before the trail keeps the lastUpdated it was stored with.
  const lastUpdated = row.content !== null ? new Date((JSON.parse(content) as AuditEvent).meta?.lastUpdated ?? row.recorded) : row.recorded;
  return { rid: 0, type: TRAIL_TYPE, id: row.id, version: 1, lastUpdated, deleted: false, content };
}

/** Whether `id` can be an AuditEvent's id (the trail's ids are UUIDs): anything else names none. */
export const isTrailId = isUuid;

/** The AuditEvent `id`, as a resource's current version. */
export async function readTrail(q: Queryable, id: string): Promise<StoredVersion | undefined> {
  if (!isTrailId(id)) return undefined;
  const rows = await q.query<TrailRow>(`SELECT ${trailColumns('t')} FROM audit_trail t WHERE t.id = $1::uuid`, [id], { prepare: true });
  return rows[0] && trailVersion(rows[0]);
}

/**
 * Deletes the events recorded before `before`, a slice at a time (each slice one short statement,
 * off the end of the time index): how many. Only one process purges at a time (the others skip).
 */
export async function purgeTrail(db: Database, before: Date, slice = 10_000): Promise<number> {
  return db.transaction(async (tx) => {
    const [{ mine }] = await tx.query<{ mine: boolean }>('SELECT pg_try_advisory_xact_lock($1) AS mine', [PURGE_LOCK]);
    if (!mine) return 0;
    let purged = 0;
    for (;;) {
      const rows = await tx.query<{ n: number }>(
        `WITH gone AS (DELETE FROM audit_trail WHERE id IN (SELECT id FROM audit_trail WHERE recorded < $1 ORDER BY recorded LIMIT $2) RETURNING 1)
         SELECT count(*)::int AS n FROM gone`,
        [before, slice],
      );
      purged += rows[0].n;
      if (rows[0].n < slice) return purged;
    }
  });
}

// Any constant works; it only has to be the same for every Maillage process on the database.
const PURGE_LOCK = 4_271_829;
