import { describe, expect, it } from 'vitest';
import { DATABASES, useServer } from '../../tests/harness.js';

const patient = (id: string) => ({ resourceType: 'Patient', id, name: [{ family: 'Feed' }] });
const observation = (id: string, patientId: string) => ({
  resourceType: 'Observation',
  id,
  status: 'final',
  code: { text: 'poids' },
  subject: { reference: `Patient/${patientId}` },
});

describe.each(DATABASES)('the change feed on %s', (kind) => {
  const ctx = useServer(kind);
  const changes = async (id: string) =>
    ctx.server.db.query<{ type: string; id: string; version: number; interaction: string; patients: string[]; seq: number }>(
      `SELECT seq, type, id, version, interaction, patients FROM change_feed WHERE id = $1 ORDER BY seq`,
      [id],
    );

  it('records every committed write with its interaction and the patients it concerns', async () => {
    const { api } = ctx;
    expect((await api.put('Patient/feed-p1', patient('feed-p1'))).status).toBe(201);
    expect((await api.put('Observation/feed-o1', observation('feed-o1', 'feed-p1'))).status).toBe(201);
    expect((await api.put('Observation/feed-o1', { ...observation('feed-o1', 'feed-p1'), status: 'amended' })).status).toBe(200);
    expect((await api.patch('Observation/feed-o1', [{ op: 'replace', path: '/status', value: 'corrected' }])).status).toBe(200);
    expect((await api.delete('Observation/feed-o1')).status).toBe(200);
    const rows = await changes('feed-o1');
    expect(rows.map((r) => [r.version, r.interaction, r.patients])).toEqual([
      [1, 'create', ['feed-p1']],
      [2, 'update', ['feed-p1']],
      [3, 'patch', ['feed-p1']],
      // A tombstone concerns the patients of the version it deletes.
      [4, 'delete', ['feed-p1']],
    ]);
    expect((await changes('feed-p1')).map((r) => [r.type, r.interaction, r.patients])).toEqual([['Patient', 'create', ['feed-p1']]]);
  });

  it('records each entry of a transaction, and nothing of a transaction that failed', async () => {
    const { api } = ctx;
    const entry = (resource: { resourceType: string; id: string }) => ({
      resource,
      request: { method: 'PUT', url: `${resource.resourceType}/${resource.id}` },
    });
    const ok = await api.post('', {
      resourceType: 'Bundle',
      type: 'transaction',
      entry: [entry(patient('feed-t1')), entry(observation('feed-t2', 'feed-t1'))],
    });
    expect(ok.status).toBe(200);
    expect((await changes('feed-t1')).map((r) => r.interaction)).toEqual(['create']);
    expect((await changes('feed-t2')).map((r) => r.patients)).toEqual([['feed-t1']]);
    const failed = await api.post('', {
      resourceType: 'Bundle',
      type: 'transaction',
      entry: [
        entry(patient('feed-t3')),
        { ...entry(observation('feed-t4', 'feed-t3')), request: { method: 'PUT', url: 'Observation/feed-t4', ifMatch: 'W/"9"' } },
      ],
    });
    expect(failed.status).toBeGreaterThanOrEqual(400);
    expect(await changes('feed-t3')).toEqual([]);
  });
});
