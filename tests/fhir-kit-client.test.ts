import { Client } from 'fhir-kit-client';
import { describe, expect, it } from 'vitest';
import { DATABASES, useServer } from './harness.js';

type Res = Record<string, any>;

describe.each(DATABASES)('fhir-kit-client against the server on %s', (kind) => {
  const t = useServer(kind);

  it('creates, reads, updates, patches, pages history, searches and deletes a CarePlan', async () => {
    const fhir = new Client({ baseUrl: t.server.base });
    const capability = (await fhir.capabilityStatement()) as Res;
    expect(capability.fhirVersion).toBe('4.0.1');

    const created = (await fhir.create({
      resourceType: 'CarePlan',
      body: { resourceType: 'CarePlan', status: 'draft', intent: 'plan', subject: { reference: 'Patient/p-kit' }, title: 'PPCS' },
    })) as Res;
    expect(created.id).toBeTruthy();
    const read = (await fhir.read({ resourceType: 'CarePlan', id: created.id })) as Res;
    expect(read.title).toBe('PPCS');

    const updated = (await fhir.update({ resourceType: 'CarePlan', id: created.id, body: { ...read, resourceType: 'CarePlan', status: 'active' } })) as Res;
    expect(updated.meta.versionId).toBe('2');
    const patched = (await fhir.patch({
      resourceType: 'CarePlan',
      id: created.id,
      jsonPatch: [{ op: 'replace', path: '/title', value: 'PPCS révisé' }],
    })) as Res;
    expect(patched.title).toBe('PPCS révisé');
    const v1 = (await fhir.vread({ resourceType: 'CarePlan', id: created.id, version: '1' })) as Res;
    expect(v1.status).toBe('draft');

    let page = (await fhir.history({ resourceType: 'CarePlan', id: created.id, options: { headers: {} } })) as Res;
    expect(page.total).toBe(3);
    const firstPage = (await fhir.search({ resourceType: 'CarePlan', searchParams: { subject: 'Patient/p-kit', _count: 1 } })) as Res;
    expect(firstPage.total).toBe(1);

    page = (await fhir.request(`CarePlan/${created.id}/_history?_count=2`)) as Res;
    const next = (await fhir.nextPage({ bundle: page as never })) as Res;
    expect(next.entry.map((e: Res) => e.resource.meta.versionId)).toEqual(['1']);

    await fhir.delete({ resourceType: 'CarePlan', id: created.id });
    await expect(fhir.read({ resourceType: 'CarePlan', id: created.id })).rejects.toMatchObject({ response: { status: 410 } });
  });
});
