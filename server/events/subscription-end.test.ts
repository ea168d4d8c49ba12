import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DATABASES, useServer } from '../../tests/harness.js';
import { startReceiver } from '../../tests/receiver.js';

const task = (id: string) => ({ resourceType: 'Task', id, status: 'requested', intent: 'order', description: id });

describe.each(DATABASES)('a Subscription past its end, on %s', (kind) => {
  const ctx = useServer(kind);
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  beforeAll(async () => {
    receiver = await startReceiver();
  });
  afterAll(() => receiver?.close());

  it('hears nothing more (R4: the server turns it off at its end), while one still running hears each change', async () => {
    const { api } = ctx;
    const hook = (path: string, end: string) => ({
      resourceType: 'Subscription',
      status: 'requested',
      reason: 'tâches',
      end,
      criteria: 'Task',
      channel: { type: 'rest-hook', endpoint: `${receiver.url}/${path}`, payload: 'application/fhir+json' },
    });
    expect((await api.post('Subscription', hook('ended', new Date(Date.now() - 1000).toISOString()))).status).toBe(201);
    expect((await api.post('Subscription', hook('running', new Date(Date.now() + 3600_000).toISOString()))).status).toBe(201);
    await api.put('Task/end-1', task('end-1'));
    await receiver.waitFor(1);
    await new Promise((r) => setTimeout(r, 500));
    expect(receiver.received.map((r) => r.url)).toEqual(['/running/Task/end-1']);
  });
});
