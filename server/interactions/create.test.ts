import { describe, expect, it } from 'vitest';
import { DATABASES, useServer } from '../../tests/harness.js';

// A local identifier (IPP): an INS would need a validated identity (validation/identity.ts).
const INS = 'urn:oid:1.2.250.1.999.1.1';

describe.each(DATABASES)('create on %s', (kind) => {
  const t = useServer(kind);

  it('assigns an id, ignoring the one sent, and answers 201 with Location, ETag and Last-Modified', async () => {
    const res = await t.api.post('Patient', { resourceType: 'Patient', id: 'mine', name: [{ family: 'Martin' }] });
    expect(res.status).toBe(201);
    expect(res.body.id).not.toBe('mine');
    expect(res.body.meta.versionId).toBe('1');
    expect(res.headers.get('location')).toBe(`${t.server.base}/Patient/${res.body.id}/_history/1`);
    expect(res.headers.get('etag')).toBe('W/"1"');
    expect(res.headers.get('last-modified')).toBe(new Date(res.body.meta.lastUpdated).toUTCString());
    expect((await t.api.get('Patient/mine')).status).toBe(404);
  });

  it('keeps client meta (profile, tag) and replaces versionId and lastUpdated', async () => {
    const res = await t.api.post('Patient', {
      resourceType: 'Patient',
      meta: { versionId: '99', lastUpdated: '2000-01-01T00:00:00Z', profile: ['https://example.org/p'], tag: [{ code: 't' }] },
    });
    expect(res.body.meta.versionId).toBe('1');
    expect(res.body.meta.lastUpdated).not.toBe('2000-01-01T00:00:00Z');
    expect(res.body.meta.profile).toEqual(['https://example.org/p']);
    expect(res.body.meta.tag).toEqual([{ code: 't' }]);
  });

  it('refuses an invalid resource with 400 and the FHIRPath of each fault', async () => {
    const expressions = (res: { body: { issue: { expression?: string[] }[] } }) => res.body.issue.flatMap((i) => i.expression ?? []);
    // Faults of JSON structure first (validation/structure.ts), then of content.
    const structure = await t.api.post('Patient', { resourceType: 'Patient', active: 'yes', nickname: 'Jo' });
    expect(structure.status).toBe(400);
    expect(structure.body.resourceType).toBe('OperationOutcome');
    expect(expressions(structure)).toEqual(['Patient.active', 'Patient.nickname']);
    const content = await t.api.post('Patient', { resourceType: 'Patient', birthDate: 'yesterday', gender: 'robot' });
    expect(content.status).toBe(400);
    expect(expressions(content)).toEqual(expect.arrayContaining(['Patient.birthDate', 'Patient.gender']));
  });

  it('refuses a body of another type, a non-object body, and a body that is not JSON', async () => {
    expect((await t.api.post('Patient', { resourceType: 'Practitioner' })).status).toBe(400);
    expect((await t.api.post('Patient', [1, 2])).status).toBe(400);
    const bad = await t.api.post('Patient', '{"resourceType": "Patient",');
    expect(bad.status).toBe(400);
    expect(bad.body.issue[0].code).toBe('structure');
  });

  it('conditional create: creates when none matches, returns the match when one does, 412 when several', async () => {
    const patient = (nir: string) => ({ resourceType: 'Patient', identifier: [{ system: INS, value: nir }] });
    const cond = { 'if-none-exist': `identifier=${INS}|185057800608436` };
    const first = await t.api.post('Patient', patient('185057800608436'), cond);
    expect(first.status).toBe(201);
    const again = await t.api.post('Patient', patient('185057800608436'), cond);
    expect(again.status).toBe(200);
    expect(again.body.id).toBe(first.body.id);
    await t.api.post('Patient', patient('285057800608400'));
    await t.api.post('Patient', patient('285057800608400'));
    const many = await t.api.post('Patient', patient('285057800608400'), { 'if-none-exist': `identifier=${INS}|285057800608400` });
    expect(many.status).toBe(412);
  });

  it('conditional create refuses criteria it does not understand rather than matching everything', async () => {
    const res = await t.api.post('Patient', { resourceType: 'Patient' }, { 'if-none-exist': 'unknown-param=1' });
    expect(res.status).toBe(400);
  });

  it('concurrent conditional creates with the same criteria create exactly one resource', async () => {
    const nir = '170017500000123';
    const results = await Promise.all(
      Array.from({ length: 8 }, () =>
        t.api.post(
          'Patient',
          { resourceType: 'Patient', identifier: [{ system: INS, value: nir }] },
          {
            'if-none-exist': `identifier=${INS}|${nir}`,
          },
        ),
      ),
    );
    expect(results.filter((r) => r.status === 201)).toHaveLength(1);
    expect(results.filter((r) => r.status === 200)).toHaveLength(7);
    const found = await t.api.get(`Patient?identifier=${INS}|${nir}`);
    expect(found.body.total).toBe(1);
  });

  it('honours Prefer: return=minimal and return=OperationOutcome', async () => {
    const minimal = await t.api.post('Patient', { resourceType: 'Patient' }, { prefer: 'return=minimal' });
    expect(minimal.status).toBe(201);
    expect(minimal.body).toBeUndefined();
    expect(minimal.headers.get('location')).toMatch(/\/Patient\/[^/]+\/_history\/1$/);
    const oo = await t.api.post('Patient', { resourceType: 'Patient' }, { prefer: 'return=OperationOutcome' });
    expect(oo.status).toBe(201);
    expect(oo.body.resourceType).toBe('OperationOutcome');
  });

  it('stores values longer than an index entry can hold, and finds them by their beginning', async () => {
    const family = `Kermarrec${'x'.repeat(3000)}`;
    const res = await t.api.post('Patient', { resourceType: 'Patient', name: [{ family }], identifier: [{ system: 'urn:x', value: 'v'.repeat(3000) }] });
    expect(res.status).toBe(201);
    expect((await t.api.get(`Patient/${res.body.id}`)).body.name[0].family).toBe(family);
    expect((await t.api.get('Patient?family=kermarrecxxx')).body.total).toBe(1);
  });

  it('stores a Bundle of type collection posted to /Bundle as a resource', async () => {
    const bundle = { resourceType: 'Bundle', type: 'collection', entry: [{ resource: { resourceType: 'Patient', active: true } }] };
    const res = await t.api.post('Bundle', bundle);
    expect(res.status).toBe(201);
    expect((await t.api.get(`Bundle/${res.body.id}`)).body.entry[0].resource.active).toBe(true);
  });
});
