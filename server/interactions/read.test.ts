import { describe, expect, it } from 'vitest';
import { DATABASES, useServer } from '../../tests/harness.js';

describe.each(DATABASES)('read and vread on %s', (kind) => {
  const t = useServer(kind);
  const carePlan = { resourceType: 'CarePlan', status: 'active', intent: 'plan', subject: { reference: 'Patient/p1' } };

  it('reads back what was created, with ETag and Last-Modified', async () => {
    const created = await t.api.post('CarePlan', carePlan);
    const id = created.body.id;
    const res = await t.api.get(`CarePlan/${id}`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/fhir+json; charset=utf-8');
    expect(res.headers.get('etag')).toBe('W/"1"');
    expect(new Date(res.headers.get('last-modified') as string).getTime()).toBe(Math.floor(Date.parse(res.body.meta.lastUpdated) / 1000) * 1000);
    expect(res.body).toEqual(created.body);
  });

  it('answers 404 for an unknown id, 400 for an illegal one and 404 for an unknown type', async () => {
    expect((await t.api.get('CarePlan/does-not-exist')).status).toBe(404);
    const illegal = await t.api.get(`CarePlan/${'x'.repeat(65)}`);
    expect(illegal.status).toBe(400);
    expect(illegal.body.resourceType).toBe('OperationOutcome');
    const unknown = await t.api.get('CarePlanne/1');
    expect(unknown.status).toBe(404);
    expect(unknown.body.issue[0].diagnostics).toContain('CarePlanne');
  });

  it('answers 410 after a delete, for read and for the deletion version', async () => {
    const { body } = await t.api.post('CarePlan', carePlan);
    await t.api.delete(`CarePlan/${body.id}`);
    expect((await t.api.get(`CarePlan/${body.id}`)).status).toBe(410);
    expect((await t.api.get(`CarePlan/${body.id}/_history/2`)).status).toBe(410);
    expect((await t.api.get(`CarePlan/${body.id}/_history/1`)).status).toBe(200);
  });

  it('answers 304 to If-None-Match on the current version and to If-Modified-Since', async () => {
    const { body } = await t.api.post('CarePlan', carePlan);
    expect((await t.api.get(`CarePlan/${body.id}`, { 'if-none-match': 'W/"1"' })).status).toBe(304);
    expect((await t.api.get(`CarePlan/${body.id}`, { 'if-none-match': 'W/"7"' })).status).toBe(200);
    const later = new Date(Date.now() + 60_000).toUTCString();
    const earlier = new Date(Date.now() - 60_000).toUTCString();
    expect((await t.api.get(`CarePlan/${body.id}`, { 'if-modified-since': later })).status).toBe(304);
    expect((await t.api.get(`CarePlan/${body.id}`, { 'if-modified-since': earlier })).status).toBe(200);
  });

  it('reads each version by vread, and 404 for a version that never was', async () => {
    const { body } = await t.api.post('CarePlan', carePlan);
    await t.api.put(`CarePlan/${body.id}`, { ...carePlan, id: body.id, title: 'PPCS v2' });
    const v1 = await t.api.get(`CarePlan/${body.id}/_history/1`);
    const v2 = await t.api.get(`CarePlan/${body.id}/_history/2`);
    expect(v1.body.title).toBeUndefined();
    expect(v2.body.title).toBe('PPCS v2');
    expect(v2.headers.get('etag')).toBe('W/"2"');
    expect((await t.api.get(`CarePlan/${body.id}/_history/3`)).status).toBe(404);
    expect((await t.api.get(`CarePlan/${body.id}/_history/abc`)).status).toBe(404);
  });

  it('answers HEAD with the headers of GET and no body', async () => {
    const { body } = await t.api.post('CarePlan', carePlan);
    const res = await fetch(`${t.server.base}/CarePlan/${body.id}`, { method: 'HEAD' });
    expect(res.status).toBe(200);
    expect(res.headers.get('etag')).toBe('W/"1"');
    expect(await res.text()).toBe('');
  });
});
