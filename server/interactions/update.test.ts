import { describe, expect, it } from 'vitest';
import { DATABASES, useServer } from '../../tests/harness.js';

const RPPS = 'https://rpps.esante.gouv.fr';
const carePlan = (id: string, title?: string) => ({
  resourceType: 'CarePlan',
  id,
  status: 'active',
  intent: 'plan',
  subject: { reference: 'Patient/p1' },
  ...(title ? { title } : {}),
});

describe.each(DATABASES)('update on %s', (kind) => {
  const t = useServer(kind);

  it('creates with the client id (201), then updates (200) with the next version', async () => {
    const created = await t.api.put('CarePlan/ppcs-a', carePlan('ppcs-a'));
    expect(created.status).toBe(201);
    expect(created.headers.get('location')).toBe(`${t.server.base}/CarePlan/ppcs-a/_history/1`);
    const updated = await t.api.put('CarePlan/ppcs-a', carePlan('ppcs-a', 'PPCS'));
    expect(updated.status).toBe(200);
    expect(updated.body.meta.versionId).toBe('2');
    expect(updated.headers.get('etag')).toBe('W/"2"');
    expect(Date.parse(updated.body.meta.lastUpdated)).toBeGreaterThan(Date.parse(created.body.meta.lastUpdated));
  });

  it('refuses a body without id, with another id, or of another type', async () => {
    const { id: _dropped, ...noId } = carePlan('x');
    void _dropped;
    expect((await t.api.put('CarePlan/ppcs-b', noId)).status).toBe(400);
    const other = await t.api.put('CarePlan/ppcs-b', carePlan('ppcs-c'));
    expect(other.status).toBe(400);
    expect(other.body.issue[0].expression).toEqual(['id']);
    expect((await t.api.put('CarePlan/ppcs-b', { resourceType: 'Goal', id: 'ppcs-b' })).status).toBe(400);
  });

  it('applies If-Match to the current version only (412 when stale)', async () => {
    await t.api.put('CarePlan/ppcs-d', carePlan('ppcs-d'));
    expect((await t.api.put('CarePlan/ppcs-d', carePlan('ppcs-d', 'v2'), { 'if-match': 'W/"1"' })).status).toBe(200);
    const stale = await t.api.put('CarePlan/ppcs-d', carePlan('ppcs-d', 'lost'), { 'if-match': 'W/"1"' });
    expect(stale.status).toBe(412);
    expect((await t.api.get('CarePlan/ppcs-d')).body.title).toBe('v2');
    expect((await t.api.put('CarePlan/ppcs-new', carePlan('ppcs-new'), { 'if-match': 'W/"1"' })).status).toBe(412);
  });

  it('lets exactly one of concurrent updates of the same version win; the others get 412 and nothing is lost', async () => {
    await t.api.put('CarePlan/ppcs-race', carePlan('ppcs-race'));
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, i) => t.api.put('CarePlan/ppcs-race', carePlan('ppcs-race', `writer ${i}`), { 'if-match': 'W/"1"' })),
    );
    const winners = results.filter((r) => r.status === 200);
    expect(winners).toHaveLength(1);
    expect(results.filter((r) => r.status === 412)).toHaveLength(9);
    const current = await t.api.get('CarePlan/ppcs-race');
    expect(current.body.meta.versionId).toBe('2');
    expect(current.body.title).toBe(winners[0].body.title);
  });

  it('serialises concurrent updates without If-Match into consecutive versions', async () => {
    await t.api.put('CarePlan/ppcs-seq', carePlan('ppcs-seq'));
    await Promise.all(Array.from({ length: 10 }, (_, i) => t.api.put('CarePlan/ppcs-seq', carePlan('ppcs-seq', `w${i}`))));
    const history = await t.api.get('CarePlan/ppcs-seq/_history?_count=50');
    expect(history.body.total).toBe(11);
    const versions = history.body.entry.map((e: { resource: { meta: { versionId: string } } }) => Number(e.resource.meta.versionId));
    expect(versions).toEqual([11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1]);
  });

  it('creates concurrently with the same client id once, then updates', async () => {
    const results = await Promise.all(Array.from({ length: 6 }, () => t.api.put('CarePlan/ppcs-twin', carePlan('ppcs-twin'))));
    expect(results.filter((r) => r.status === 201)).toHaveLength(1);
    expect(results.filter((r) => r.status === 200)).toHaveLength(5);
  });

  it('recreates a deleted resource as its next version', async () => {
    await t.api.put('CarePlan/ppcs-e', carePlan('ppcs-e'));
    await t.api.delete('CarePlan/ppcs-e');
    const back = await t.api.put('CarePlan/ppcs-e', carePlan('ppcs-e'));
    expect(back.status).toBe(201);
    expect(back.body.meta.versionId).toBe('3');
  });

  describe('conditional update', () => {
    const practitioner = (rpps: string, family: string, id?: string) => ({
      resourceType: 'Practitioner',
      ...(id ? { id } : {}),
      identifier: [{ system: RPPS, value: rpps }],
      name: [{ family }],
    });

    it('creates when nothing matches, updates the single match, 412 on several', async () => {
      const created = await t.api.put(`Practitioner?identifier=${RPPS}|10001234567`, practitioner('10001234567', 'Lefèvre'));
      expect(created.status).toBe(201);
      const updated = await t.api.put(`Practitioner?identifier=${RPPS}|10001234567`, practitioner('10001234567', 'Lefebvre'));
      expect(updated.status).toBe(200);
      expect(updated.body.id).toBe(created.body.id);
      expect(updated.body.meta.versionId).toBe('2');
      await t.api.post('Practitioner', practitioner('10009999999', 'A'));
      await t.api.post('Practitioner', practitioner('10009999999', 'B'));
      expect((await t.api.put(`Practitioner?identifier=${RPPS}|10009999999`, practitioner('10009999999', 'C'))).status).toBe(412);
    });

    it('refuses a body id that is not the match (400) and an id that exists without matching (409)', async () => {
      const { body } = await t.api.post('Practitioner', practitioner('10005555555', 'Roux'));
      const wrongId = await t.api.put(`Practitioner?identifier=${RPPS}|10005555555`, practitioner('10005555555', 'Roux', 'other'));
      expect(wrongId.status).toBe(400);
      const clash = await t.api.put(`Practitioner?identifier=${RPPS}|10006666666`, practitioner('10006666666', 'Roux', body.id));
      expect(clash.status).toBe(409);
    });

    it('needs criteria', async () => {
      expect((await t.api.put('Practitioner', practitioner('1', 'X'))).status).toBe(400);
    });
  });
});
