import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { client, useServerPair } from './harness.js';
import { startReceiver } from './receiver.js';

/** The advisory lock time-events.ts scans under. */
const TIME_EVENTS_LOCK = 210_021;

describe.runIf(process.env.TEST_DATABASE_URL)('time events with two server processes on one PostgreSQL', () => {
  const { servers, databaseUrl } = useServerPair('loaded', { TIME_EVENTS_SECONDS: '1' });
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  let sql: pg.Client;
  beforeAll(async () => {
    receiver = await startReceiver();
    sql = new pg.Client({ connectionString: databaseUrl() });
    await sql.connect();
  });
  afterAll(async () => {
    await sql?.end();
    await receiver?.close();
  });

  it('raises each overdue Task once, by one process at a time, and the pair delivers it once, numbered without gaps', async () => {
    const [a, b] = servers.map((s) => client(`${s.url}/fhir`));
    const created = await a.post('Subscription', {
      resourceType: 'Subscription',
      status: 'requested',
      reason: 'tâches en retard',
      criteria: 'https://fhir.maillage.fr/SubscriptionTopic/task-overdue',
      channel: { type: 'rest-hook', endpoint: `${receiver.url}/late`, payload: 'application/fhir+json' },
    });
    expect(created.status).toBe(201);
    const events = () =>
      receiver.received
        .filter((r) => r.url === '/late')
        .map((r) => JSON.parse(r.body))
        .filter((bundle) => bundle.entry[0].resource.parameter.find((p: { name: string }) => p.name === 'type').valueCode === 'event-notification');

    // While someone else holds the scan's lock, nobody raises anything.
    await sql.query('SELECT pg_advisory_lock($1)', [TIME_EVENTS_LOCK]);
    const ids = Array.from({ length: 10 }, (_, i) => `late-${i}`);
    for (const [i, id] of ids.entries()) {
      const res = await (i % 2 ? b : a).put(`Task/${id}`, {
        resourceType: 'Task',
        id,
        status: 'requested',
        intent: 'order',
        restriction: { period: { end: '2021-06-01T08:00:00Z' } },
      });
      expect(res.status).toBe(201);
    }
    await new Promise((r) => setTimeout(r, 2500));
    expect((await sql.query(`SELECT count(*)::int AS n FROM time_event_raised`)).rows[0].n).toBe(0);
    await sql.query('SELECT pg_advisory_unlock($1)', [TIME_EVENTS_LOCK]);

    const start = Date.now();
    while (events().length < ids.length && Date.now() - start < 15_000) await new Promise((r) => setTimeout(r, 50));
    // Both processes keep scanning every second: still once each.
    await new Promise((r) => setTimeout(r, 2500));
    const heard = events().map((bundle) => {
      const event = bundle.entry[0].resource.parameter.find((p: { name: string }) => p.name === 'notification-event');
      return [event.part.find((p: { name: string }) => p.name === 'event-number').valueString, bundle.entry[1].fullUrl.split('/').pop()];
    });
    expect(heard.map(([n]) => n)).toEqual(ids.map((_, i) => String(i + 1)));
    expect(heard.map(([, id]) => id).sort()).toEqual([...ids].sort());
    const feed = await sql.query(`SELECT count(*)::int AS n FROM change_feed WHERE interaction = 'time:task-overdue'`);
    expect(feed.rows[0].n).toBe(ids.length);
  });
});
