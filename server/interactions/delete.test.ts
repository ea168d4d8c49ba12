import { describe, expect, it } from 'vitest';
import { DATABASES, useServer } from '../../tests/harness.js';

const FINESS = 'https://finess.esante.gouv.fr';

describe.each(DATABASES)('delete on %s', (kind) => {
  const t = useServer(kind);
  const org = (id: string, finess: string) => ({
    resourceType: 'Organization',
    id,
    identifier: [{ system: FINESS, value: finess }],
    name: 'EHPAD Les Tilleuls',
  });

  it('writes a tombstone: reads give 410, history keeps every version, search no longer finds it', async () => {
    await t.api.put('Organization/o1', org('o1', '010000024'));
    const res = await t.api.delete('Organization/o1');
    expect(res.status).toBe(200);
    expect(res.headers.get('etag')).toBe('W/"2"');
    expect((await t.api.get('Organization/o1')).status).toBe(410);
    const history = await t.api.get('Organization/o1/_history');
    expect(history.body.total).toBe(2);
    expect(history.body.entry[0].request).toEqual({ method: 'DELETE', url: 'Organization/o1' });
    expect(history.body.entry[0].resource).toBeUndefined();
    expect((await t.api.get(`Organization?identifier=${FINESS}|010000024`)).body.total).toBe(0);
  });

  it('is idempotent on a deleted resource (204) and 404 on one that never existed', async () => {
    await t.api.put('Organization/o2', org('o2', '010000032'));
    await t.api.delete('Organization/o2');
    expect((await t.api.delete('Organization/o2')).status).toBe(204);
    expect((await t.api.get('Organization/o2/_history')).body.total).toBe(2);
    expect((await t.api.delete('Organization/never')).status).toBe(404);
  });

  it('honours If-Match', async () => {
    await t.api.put('Organization/o3', org('o3', '010000040'));
    expect((await t.api.delete('Organization/o3', { 'if-match': 'W/"2"' })).status).toBe(412);
    expect((await t.api.get('Organization/o3')).status).toBe(200);
  });

  it('conditional delete: the single match is deleted, none is a no-op, several is 412', async () => {
    await t.api.put('Organization/o4', org('o4', '010000057'));
    expect((await t.api.delete(`Organization?identifier=${FINESS}|010000057`)).status).toBe(200);
    expect((await t.api.get('Organization/o4')).status).toBe(410);
    expect((await t.api.delete(`Organization?identifier=${FINESS}|999999999`)).status).toBe(204);
    await t.api.put('Organization/o5', org('o5', '010000065'));
    await t.api.put('Organization/o6', org('o6', '010000065'));
    expect((await t.api.delete(`Organization?identifier=${FINESS}|010000065`)).status).toBe(412);
    expect((await t.api.get('Organization/o5')).status).toBe(200);
  });
});
