import { describe, expect, it } from 'vitest';
import { DATABASES, useServer } from '../../tests/harness.js';

describe.each(DATABASES)('patch on %s', (kind) => {
  const t = useServer(kind);
  const put = (id: string) =>
    t.api.put(`CarePlan/${id}`, { resourceType: 'CarePlan', id, status: 'active', intent: 'plan', subject: { reference: 'Patient/p1' } });

  it('applies a JSON Patch and writes the next version', async () => {
    await put('cp-p1');
    const res = await t.api.patch('CarePlan/cp-p1', [
      { op: 'replace', path: '/status', value: 'completed' },
      { op: 'add', path: '/title', value: 'PPCS de Mme Dubois' },
    ]);
    expect(res.status).toBe(200);
    expect(res.body.status).toBe('completed');
    expect(res.body.title).toBe('PPCS de Mme Dubois');
    expect(res.body.meta.versionId).toBe('2');
    const history = await t.api.get('CarePlan/cp-p1/_history');
    expect(history.body.entry[0].request.method).toBe('PATCH');
  });

  it('honours If-Match', async () => {
    await put('cp-p2');
    expect((await t.api.patch('CarePlan/cp-p2', [{ op: 'add', path: '/title', value: 'x' }], { 'if-match': 'W/"9"' })).status).toBe(412);
    expect((await t.api.patch('CarePlan/cp-p2', [{ op: 'add', path: '/title', value: 'x' }], { 'if-match': 'W/"1"' })).status).toBe(200);
  });

  it('refuses a malformed patch (400), a patch that does not apply or fails a test (422), a result that is invalid (422)', async () => {
    await put('cp-p3');
    expect((await t.api.patch('CarePlan/cp-p3', { op: 'replace' })).status).toBe(400);
    expect((await t.api.patch('CarePlan/cp-p3', [{ op: 'frobnicate', path: '/status' }])).status).toBe(400);
    expect((await t.api.patch('CarePlan/cp-p3', [{ op: 'remove', path: '/nothing/here' }])).status).toBe(422);
    expect((await t.api.patch('CarePlan/cp-p3', [{ op: 'test', path: '/status', value: 'draft' }])).status).toBe(422);
    const invalid = await t.api.patch('CarePlan/cp-p3', [{ op: 'add', path: '/colour', value: 'blue' }]);
    expect(invalid.status).toBe(422);
    expect(invalid.body.issue[0].expression).toEqual(['CarePlan.colour']);
    expect((await t.api.patch('CarePlan/cp-p3', [{ op: 'replace', path: '/id', value: 'other' }])).status).toBe(422);
    expect((await t.api.get('CarePlan/cp-p3')).body.meta.versionId).toBe('1');
  });

  it('needs the JSON Patch media type (415 otherwise), and 404/410 for missing or deleted targets', async () => {
    await put('cp-p4');
    const wrongType = await t.api.call('PATCH', 'CarePlan/cp-p4', [{ op: 'add', path: '/title', value: 'x' }], {
      'content-type': 'application/fhir+json',
    });
    expect(wrongType.status).toBe(415);
    expect((await t.api.patch('CarePlan/none', [{ op: 'add', path: '/title', value: 'x' }])).status).toBe(404);
    await t.api.delete('CarePlan/cp-p4');
    expect((await t.api.patch('CarePlan/cp-p4', [{ op: 'add', path: '/title', value: 'x' }])).status).toBe(410);
  });

  it('patches the single match of a conditional patch', async () => {
    await t.api.put('Patient/pat-c', { resourceType: 'Patient', id: 'pat-c', identifier: [{ system: 'urn:oid:1.2.250.1.999.1.1', value: '299' }] });
    const res = await t.api.patch('Patient?identifier=urn:oid:1.2.250.1.999.1.1|299', [{ op: 'add', path: '/active', value: true }]);
    expect(res.status).toBe(200);
    expect(res.body.id).toBe('pat-c');
    expect(res.body.active).toBe(true);
  });
});
