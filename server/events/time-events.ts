import type { Database } from '../store/db.js';

/**
 * Time turns into events: a Task not closed whose due date (restriction.period.end) has passed
 * (topic task-overdue), an active CarePlan's activity whose scheduledPeriod.start falls within the
 * next `dueSoonDays` days (topic care-plan-activity-due). Each is raised once (time_event_raised
 * keeps what was raised, per resource and date: a Task given a new due date is raised again when
 * it passes), as a row of the change feed with the interaction `time:[topic]`, so that it reaches
 * the topic-based subscriptions as any change does (topic-matcher.ts), in order, durably.
 *
 * One process at a time looks: the scan runs under a transaction-scoped advisory lock that
 * others do not wait for (they skip this round); the primary key would refuse a second raise anyway.
 */
const LOCK_KEY = 210_021;
const CLOSED_TASK = ['completed', 'cancelled', 'failed', 'rejected', 'entered-in-error'];
const CLOSED_ACTIVITY = ['completed', 'cancelled', 'stopped', 'entered-in-error'];
const DAY_MS = 86_400_000;

/** When a FHIR date or dateTime is reached: a date alone, at the end of that day (UTC). */
export function dueAt(text: string, end: boolean): number {
  if (/^\d{4}(-\d{2}(-\d{2})?)?$/.test(text)) {
    const [y, m = '01', d = '01'] = text.split('-');
    const start = Date.UTC(Number(y), Number(m) - 1, Number(d));
    return end ? start + DAY_MS : start;
  }
  return Date.parse(text);
}

interface Due {
  topic: string;
  type: string;
  id: string;
  due: string;
}

/** Raises the time events due at `now`; returns how many were raised (0 when another process holds the scan). */
export async function raiseTimeEvents(db: Database, now: Date, dueSoonDays: number): Promise<number> {
  return db.transaction(async (tx) => {
    const [{ locked }] = await tx.query<{ locked: boolean }>(`SELECT pg_try_advisory_xact_lock($1) AS locked`, [LOCK_KEY]);
    if (!locked) return 0;
    const tasks = await tx.query<{ id: string; due: string }>(
      `SELECT r.id, j #>> '{restriction,period,end}' AS due
         FROM resource r CROSS JOIN LATERAL (SELECT r.content::jsonb AS j) c
        WHERE r.type = 'Task' AND NOT r.deleted
          AND j #>> '{restriction,period,end}' IS NOT NULL
          AND coalesce(j ->> 'status', '') <> ALL ($1::text[])
          AND NOT EXISTS (SELECT 1 FROM time_event_raised e
                           WHERE e.topic = 'task-overdue' AND e.type = 'Task' AND e.id = r.id AND e.due = j #>> '{restriction,period,end}')`,
      [CLOSED_TASK],
    );
    const activities = await tx.query<{ id: string; n: string; start: string }>(
      `SELECT r.id, a.n::text AS n, a.value #>> '{detail,scheduledPeriod,start}' AS start
         FROM resource r CROSS JOIN LATERAL jsonb_array_elements(r.content::jsonb -> 'activity') WITH ORDINALITY AS a(value, n)
        WHERE r.type = 'CarePlan' AND NOT r.deleted AND r.content::jsonb ->> 'status' = 'active'
          AND a.value #>> '{detail,scheduledPeriod,start}' IS NOT NULL
          AND coalesce(a.value #>> '{detail,status}', '') <> ALL ($1::text[])
          AND NOT EXISTS (SELECT 1 FROM time_event_raised e
                           WHERE e.topic = 'care-plan-activity-due' AND e.type = 'CarePlan' AND e.id = r.id
                             AND e.due = a.n || ' ' || (a.value #>> '{detail,scheduledPeriod,start}'))`,
      [CLOSED_ACTIVITY],
    );
    const t = now.getTime();
    const due: Due[] = [
      ...tasks.filter((r) => dueAt(r.due, true) <= t).map((r) => ({ topic: 'task-overdue', type: 'Task', id: r.id, due: r.due })),
      // Within the window ahead; one that started less than a day ago still counts (a plan written late, a server down).
      ...activities
        .filter((r) => {
          const at = dueAt(r.start, false);
          return at <= t + dueSoonDays * DAY_MS && at >= t - DAY_MS;
        })
        .map((r) => ({ topic: 'care-plan-activity-due', type: 'CarePlan', id: r.id, due: `${r.n} ${r.start}` })),
    ];
    if (!due.length) return 0;
    const raised = await tx.query(
      `WITH raised AS (
         INSERT INTO time_event_raised (topic, type, id, due)
         SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[]) ON CONFLICT DO NOTHING RETURNING topic, type, id)
       INSERT INTO change_feed (type, id, version, interaction, at, patients)
       SELECT r.type, r.id, r.version, 'time:' || e.topic, now(), v.patients
         FROM raised e JOIN resource r ON r.type = e.type AND r.id = e.id
         JOIN resource_version v ON v.rid = r.rid AND v.version = r.version
       RETURNING 1`,
      [due.map((d) => d.topic), due.map((d) => d.type), due.map((d) => d.id), due.map((d) => d.due)],
    );
    return raised.length;
  });
}
