import { request } from 'node:http';
import { describe, expect, it } from 'vitest';
import { NOS } from '../server/terminology/fixtures.js';
import { client, spawnServer, useServerPair } from './harness.js';

const carePlan = (id: string, title: string) => ({
  resourceType: 'CarePlan',
  id,
  status: 'active',
  intent: 'plan',
  subject: { reference: 'Patient/p' },
  title,
});

describe.runIf(process.env.TEST_DATABASE_URL)('two server processes on one PostgreSQL', () => {
  // Both start at once on an empty database: the migration lock must let exactly one migrate, and
  // the terminology's exactly one install it.
  const { servers } = useServerPair(undefined, { TERMINOLOGY: 'nos' });

  it('never serves stale data: a write through one is read at once through the other', async () => {
    const [a, b] = servers.map((s) => client(`${s.url}/fhir`));
    for (let i = 1; i <= 5; i++) {
      const writer = i % 2 ? a : b;
      const reader = i % 2 ? b : a;
      await writer.put('CarePlan/shared', carePlan('shared', `v${i}`));
      const read = await reader.get('CarePlan/shared');
      expect(read.body.title).toBe(`v${i}`);
      expect(read.headers.get('etag')).toBe(`W/"${i}"`);
      expect((await reader.get('CarePlan?_id=shared')).body.entry[0].resource.title).toBe(`v${i}`);
    }
    await a.delete('CarePlan/shared');
    expect((await b.get('CarePlan/shared')).status).toBe(410);
  });

  it('lets exactly one of concurrent If-Match updates through both processes win', async () => {
    const [a, b] = servers.map((s) => client(`${s.url}/fhir`));
    const created = await a.put('CarePlan/raced', carePlan('raced', 'start'));
    const version = created.headers.get('etag') as string;
    const results = await Promise.all(
      Array.from({ length: 12 }, (_, i) => (i % 2 ? a : b).put('CarePlan/raced', carePlan('raced', `w${i}`), { 'if-match': version })),
    );
    expect(results.filter((r) => r.status === 200)).toHaveLength(1);
    expect(results.filter((r) => r.status === 412)).toHaveLength(11);
    expect((await b.get('CarePlan/raced/_history')).body.total).toBe(2);
  });

  it('creates one resource for concurrent conditional creates through both processes', async () => {
    const [a, b] = servers.map((s) => client(`${s.url}/fhir`));
    // A local identifier (IPP): an INS is accepted only on a validated identity.
    const ipp = 'urn:oid:1.2.250.1.999.1.1';
    const body = { resourceType: 'Patient', identifier: [{ system: ipp, value: 'IPP-277057' }] };
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, i) => (i % 2 ? a : b).post('Patient', body, { 'if-none-exist': `identifier=${ipp}|IPP-277057` })),
    );
    expect(results.filter((r) => r.status === 201)).toHaveLength(1);
    expect((await a.get(`Patient?identifier=${ipp}|IPP-277057`)).body.total).toBe(1);
  });

  it('installs the NOS terminology once, and expands a value set changed through the other at once', async () => {
    const [a, b] = servers.map((s) => client(`${s.url}/fhir`));
    const J79 = NOS('JDV_J79-CiviliteExercice-RASS');
    expect((await b.get('ValueSet/JDV-J79-CiviliteExercice-RASS/_history')).body.total).toBe(1);
    const codes = async () => (await b.get(`ValueSet/$expand?url=${encodeURIComponent(J79)}`)).body.expansion.contains.map((c: { code: string }) => c.code);
    expect(await codes()).toEqual(['DR', 'MC', 'MG', 'PC', 'PG', 'PR']);
    const vs = (await a.get('ValueSet/JDV-J79-CiviliteExercice-RASS')).body;
    const system = NOS('TRE_R11-CiviliteExercice');
    const newer = { ...vs, version: '20990101120000', compose: { include: [{ system, concept: [{ code: 'DR' }, { code: 'PR' }] }] } };
    expect((await a.put('ValueSet/JDV-J79-CiviliteExercice-RASS', newer)).status).toBe(200);
    // The change feed: the write's response returns once the other process has heard it.
    expect(await codes()).toEqual(['DR', 'PR']);
  });
  it('puts a SearchParameter written through one in force in the other before the response returns', async () => {
    const [a, b] = servers.map((s) => client(`${s.url}/fhir`));
    const strict = { prefer: 'handling=strict' };
    // Each has just looked at the SearchParameters: a polling cache would not look again for a while.
    expect((await b.get('Patient?nickname=Zaza', strict)).status).toBe(400);
    expect((await a.get('Patient?nickname=Zaza', strict)).status).toBe(400);
    const sp = {
      resourceType: 'SearchParameter',
      id: 'patient-nickname',
      url: 'https://example.org/fhir/SearchParameter/patient-nickname',
      name: 'nickname',
      status: 'active',
      description: 'A given name',
      code: 'nickname',
      base: ['Patient'],
      type: 'string',
      expression: 'Patient.name.given',
    };
    expect((await a.put('SearchParameter/patient-nickname', sp)).status).toBe(201);
    // Indexed by the other process with it, at once; searched through both.
    expect((await b.put('Patient/zaza', { resourceType: 'Patient', id: 'zaza', name: [{ family: 'Feed', given: ['Zaza'] }] })).status).toBe(201);
    for (const api of [a, b]) {
      const found = await api.get('Patient?nickname=Zaza', strict);
      expect(found.status).toBe(200);
      expect(found.body.entry.map((e: { resource: { id: string } }) => e.resource.id)).toEqual(['zaza']);
    }
  });

  it('puts a ValueSet written through one in force in the other before the response returns', async () => {
    const [a, b] = servers.map((s) => client(`${s.url}/fhir`));
    const cs = {
      resourceType: 'CodeSystem',
      id: 'feed-cs',
      url: 'https://example.org/fhir/CodeSystem/feed',
      status: 'active',
      content: 'complete',
      concept: [{ code: 'a' }, { code: 'b' }, { code: 'c' }],
    };
    const vs = (codes: string[]) => ({
      resourceType: 'ValueSet',
      id: 'feed-vs',
      url: 'https://example.org/fhir/ValueSet/feed',
      status: 'active',
      compose: { include: [{ system: cs.url, concept: codes.map((code) => ({ code })) }] },
    });
    expect((await a.put('CodeSystem/feed-cs', cs)).status).toBe(201);
    expect((await a.put('ValueSet/feed-vs', vs(['a', 'b']))).status).toBe(201);
    const expand = async () =>
      ((await b.get(`ValueSet/$expand?url=${encodeURIComponent('https://example.org/fhir/ValueSet/feed')}`)).body.expansion?.contains ?? []).map(
        (c: { code: string }) => c.code,
      );
    expect(await expand()).toEqual(['a', 'b']);
    expect((await a.put('ValueSet/feed-vs', vs(['c']))).status).toBe(200);
    expect(await expand()).toEqual(['c']);
  });
});

describe('graceful shutdown', () => {
  it('finishes an in-flight request after SIGTERM, then exits 0', async () => {
    const server = await spawnServer({ DATA_DIR: 'memory://' });
    const body = JSON.stringify({ resourceType: 'Patient', name: [{ family: 'Garnier' }] });
    const response = new Promise<number>((resolve, reject) => {
      const req = request(
        `${server.url}/fhir/Patient`,
        { method: 'POST', headers: { 'content-type': 'application/fhir+json', 'content-length': Buffer.byteLength(body) } },
        (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode as number));
        },
      );
      req.on('error', reject);
      // Half the body now, the rest after the signal: the request is in flight when SIGTERM arrives.
      req.write(body.slice(0, 10));
      setTimeout(() => {
        server.child.kill('SIGTERM');
        setTimeout(() => req.end(body.slice(10)), 300);
      }, 200);
    });
    expect(await response).toBe(201);
    expect(await server.exited).toBe(0);
    await expect(fetch(`${server.url}/healthz`)).rejects.toThrow();
  });
});
