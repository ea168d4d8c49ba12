import { describe, expect, it } from 'vitest';
import { client, DATABASES, useServer } from '../../tests/harness.js';

describe.each(DATABASES)('capabilities on %s', (kind) => {
  const t = useServer(kind);

  it('describes an R4 server with every resource type', async () => {
    const res = await t.api.get('metadata');
    expect(res.status).toBe(200);
    expect(res.body.resourceType).toBe('CapabilityStatement');
    expect(res.body.fhirVersion).toBe('4.0.1');
    expect(res.body.implementation.url).toBe(t.server.base);
    const types = res.body.rest[0].resource.map((r: { type: string }) => r.type);
    expect(types).toContain('CarePlan');
    expect(types).toContain('PractitionerRole');
    expect(types.length).toBeGreaterThanOrEqual(145);
  });

  it('advertises only what works: every listed interaction answers on a CarePlan', async () => {
    const meta = await t.api.get('metadata');
    const carePlan = meta.body.rest[0].resource.find((r: { type: string }) => r.type === 'CarePlan');
    const api = client(t.server.base);
    const body = { resourceType: 'CarePlan', id: 'cap-1', status: 'active', intent: 'plan', subject: { reference: 'Patient/p' } };
    const checks: Record<string, () => Promise<number>> = {
      create: async () => (await api.post('CarePlan', body)).status,
      update: async () => (await api.put('CarePlan/cap-1', body)).status,
      read: async () => (await api.get('CarePlan/cap-1')).status,
      vread: async () => (await api.get('CarePlan/cap-1/_history/1')).status,
      patch: async () => (await api.patch('CarePlan/cap-1', [{ op: 'add', path: '/title', value: 't' }])).status,
      'history-instance': async () => (await api.get('CarePlan/cap-1/_history')).status,
      'history-type': async () => (await api.get('CarePlan/_history')).status,
      'search-type': async () => (await api.get('CarePlan?_id=cap-1')).status,
      delete: async () => (await api.delete('CarePlan/cap-1')).status,
    };
    const listed = carePlan.interaction.map((i: { code: string }) => i.code);
    expect(listed.sort()).toEqual(Object.keys(checks).sort());
    for (const code of Object.keys(checks)) expect(await checks[code](), code).toBeLessThan(300);
    for (const { name } of carePlan.searchParam as { name: string }[]) {
      const res = await api.get(`CarePlan?${name}:missing=true&_count=1`, { prefer: 'handling=strict' });
      expect(res.status, `search parameter ${name}`).toBe(200);
    }
    const system = meta.body.rest[0].interaction.map((i: { code: string }) => i.code);
    expect(system).toEqual(expect.arrayContaining(['history-system', 'search-system']));
    expect((await api.get('_history')).status).toBe(200);
  });

  it('advertises the audit trail as it answers: read-only, its own parameters, each applied under strict handling', async () => {
    const meta = await t.api.get('metadata');
    const trail = meta.body.rest[0].resource.find((r: { type: string }) => r.type === 'AuditEvent');
    expect(trail.interaction.map((i: { code: string }) => i.code).sort()).toEqual(['history-instance', 'history-type', 'read', 'search-type', 'vread']);
    expect((await t.api.post('AuditEvent', { resourceType: 'AuditEvent' })).status).toBe(405);
    expect((await t.api.get('AuditEvent/_history')).status).toBe(200);
    const sample: Record<string, string> = { token: 'x', reference: 'Patient/x', date: 'ge2020-01-01' };
    const names = (trail.searchParam as { name: string; type: string }[]).map(({ name, type }) => [name, sample[type]]);
    expect(names.map(([name]) => name).sort()).toEqual(['_id', '_lastUpdated', 'action', 'agent', 'date', 'entity', 'outcome', 'patient', 'subtype', 'type']);
    for (const [name, value] of names) {
      expect((await t.api.get(`AuditEvent?${name}=${value}`, { prefer: 'handling=strict' })).status, `search parameter ${name}`).toBe(200);
    }
    expect((await t.api.get('AuditEvent?site=x', { prefer: 'handling=strict' })).status).toBe(400);
    for (const include of trail.searchInclude) expect((await t.api.get(`AuditEvent?_include=${include}`, { prefer: 'handling=strict' })).status).toBe(200);
  });

  it('lists the operations where they are defined, and each one answers there', async () => {
    const meta = await t.api.get('metadata');
    const names = (ops?: { name: string; definition: string }[]) => (ops ?? []).map((o) => o.name).sort();
    const of = (type: string) => meta.body.rest[0].resource.find((r: { type: string }) => r.type === type).operation;
    expect(names(of('ValueSet'))).toEqual(['expand', 'reindex', 'validate', 'validate-code']);
    expect(names(of('CodeSystem'))).toEqual(['lookup', 'reindex', 'subsumes', 'validate', 'validate-code']);
    expect(names(of('Patient'))).toEqual(['break-glass', 'export', 'reindex', 'validate']);
    expect(names(of('Group'))).toEqual(['export', 'reindex', 'validate']);
    expect(names(meta.body.rest[0].operation)).toEqual(['aci-indicators', 'export', 'load-package', 'reindex']);
    expect(of('ValueSet').find((o: { name: string }) => o.name === 'expand').definition).toBe('http://hl7.org/fhir/OperationDefinition/ValueSet-expand');
    const api = client(t.server.base);
    const system = {
      resourceType: 'CodeSystem',
      id: 'cap-cs',
      url: 'urn:maillage:cap',
      status: 'active',
      content: 'complete',
      concept: [{ code: 'a', concept: [{ code: 'b' }] }],
    };
    expect((await api.put('CodeSystem/cap-cs', system)).status).toBeLessThan(300);
    const valueSet = {
      resourceType: 'ValueSet',
      id: 'cap-vs',
      url: 'urn:maillage:cap-vs',
      status: 'active',
      compose: { include: [{ system: 'urn:maillage:cap' }] },
    };
    expect((await api.put('ValueSet/cap-vs', valueSet)).status).toBeLessThan(300);
    const answers: [string, string, unknown?][] = [
      ['GET', 'ValueSet/cap-vs/$expand'],
      ['GET', 'ValueSet/cap-vs/$validate-code?system=urn:maillage:cap&code=a'],
      ['GET', 'CodeSystem/$lookup?system=urn:maillage:cap&code=b'],
      ['GET', 'CodeSystem/$subsumes?system=urn:maillage:cap&codeA=a&codeB=b'],
      ['GET', 'CodeSystem/cap-cs/$validate-code?code=a'],
      ['POST', 'Patient/$validate', { resourceType: 'Patient' }],
    ];
    for (const [method, path, body] of answers) {
      const res = method === 'GET' ? await api.get(path) : await api.post(path, body);
      expect(res.status, path).toBe(200);
    }
  });
});
