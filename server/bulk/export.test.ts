import { beforeAll, describe, expect, it } from 'vitest';
import { DATABASES, FAST_BULK, startTestServer, useServer, type TestServer } from '../../tests/harness.js';
import { call, operatorToken, OPERATOR, postForm, registerApp } from '../../tests/smart.js';

/**
 * Bulk Data $export through real tokens: the operator's backend (the whole pôle) and a system
 * client of one MSP, whose files hold that MSP's patients only. Then the files imported into an
 * empty server give the same resources, byte for byte.
 */
const MSP_CLIENT = 'lgc-msp';

const resources = [
  { resourceType: 'Organization', id: 'msp', name: 'MSP' },
  { resourceType: 'Organization', id: 'cabinet', name: 'Cabinet' },
  { resourceType: 'Patient', id: 'p1', name: [{ family: 'Un' }], managingOrganization: { reference: 'Organization/msp' } },
  { resourceType: 'Patient', id: 'p2', name: [{ family: 'Deux' }], managingOrganization: { reference: 'Organization/cabinet' } },
  ...['p1', 'p2'].flatMap((p) => [
    {
      resourceType: 'Observation',
      id: `obs-${p}`,
      status: 'final',
      code: { coding: [{ system: 'http://loinc.org', code: '8867-4' }] },
      subject: { reference: `Patient/${p}` },
      valueQuantity: { value: 72.5, unit: '/min' },
    },
    { resourceType: 'Observation', id: `obs2-${p}`, status: 'final', code: { text: 'other' }, subject: { reference: `Patient/${p}` } },
  ]),
  {
    resourceType: 'Group',
    id: 'cohort',
    type: 'person',
    actual: true,
    member: [{ entity: { reference: 'Patient/p1' } }, { entity: { reference: 'Patient/p2' } }, { entity: { reference: 'Organization/msp' } }],
  },
];

/** Polls a status URL until it is no longer 202. */
async function finished(url: string, token: string) {
  for (let i = 0; i < 400; i++) {
    const res = await fetch(url, { headers: { authorization: `Bearer ${token}` } });
    if (res.status !== 202) return { status: res.status, headers: res.headers, body: await res.json() };
    expect(res.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(res.headers.get('x-progress')).toBeTruthy();
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('the job did not finish');
}

const download = async (url: string, token: string) => {
  const res = await fetch(url, { headers: { authorization: `Bearer ${token}` } });
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toContain('application/fhir+ndjson');
  return (await res.text()).split('\n').filter(Boolean);
};

describe.each(DATABASES)('bulk $export on %s', (kind) => {
  const t = useServer(kind, {
    auth: true,
    ...OPERATOR,
    accessRules: { recordHolders: ['msp'], clientOrganizations: { [MSP_CLIENT]: 'msp' }, breakGlassMinutes: 60 },
    ...FAST_BULK,
  });
  const fhir = (path: string) => `${t.server.url}/fhir/${path}`;
  let operator: string;
  let msp: string;
  /** A kick-off: GET, or POST with a Parameters body. */
  const kickOff = async (path: string, token: string, parameters?: object[]) => {
    const res = await call(parameters ? 'POST' : 'GET', fhir(path), token, parameters && { resourceType: 'Parameters', parameter: parameters }, {
      prefer: 'respond-async',
      accept: 'application/fhir+json',
    });
    expect(res.status, JSON.stringify(res.body)).toBe(202);
    return res.headers.get('content-location') as string;
  };
  const exported = async (path: string, token: string, parameters?: object[]) => {
    const done = await finished(await kickOff(path, token, parameters), token);
    expect(done.status, JSON.stringify(done.body)).toBe(200);
    const files: Record<string, string[]> = {};
    for (const o of done.body.output) files[o.type] = await download(o.url, token);
    return { manifest: done.body, files };
  };

  beforeAll(async () => {
    operator = await operatorToken(t.server.url);
    for (const r of resources) {
      const res = await call('PUT', fhir(`${r.resourceType}/${r.id}`), operator, r);
      expect(res.status, JSON.stringify(res.body)).toBeLessThan(300);
    }
    const c = await registerApp(t.server.url, { client_id: MSP_CLIENT, grant_types: ['client_credentials'], scope: 'system/*.rs' });
    msp = (await postForm(`${t.server.url}/auth/token`, { grant_type: 'client_credentials', client_id: MSP_CLIENT, client_secret: c.client_secret })).body
      .access_token;
  });

  it('exports the whole pôle for its backend: manifest, one file per type, the stored resources as they are', async () => {
    const { manifest, files } = await exported('$export', operator);
    expect(manifest.requiresAccessToken).toBe(true);
    const metadata = await (await fetch(fhir('metadata'))).json();
    expect(metadata.instantiates).toContain('http://hl7.org/fhir/uv/bulkdata/CapabilityStatement/bulk-data');
    expect(metadata.rest[0].resource.find((r: any) => r.type === 'Group').operation).toContainEqual({
      name: 'export',
      definition: 'http://hl7.org/fhir/uv/bulkdata/OperationDefinition/group-export',
    });
    expect(manifest.request).toBe(fhir('$export'));
    expect(Date.parse(manifest.transactionTime)).not.toBeNaN();
    const counts = Object.fromEntries(manifest.output.map((o: any) => [o.type, o.count]));
    // With the conformance resources the server loads at start, and the Provenances of the writes.
    expect(counts).toMatchObject({ Group: 1, Observation: 4, Organization: 2, Patient: 2, Provenance: 7 });
    for (const line of files.Observation) {
      const r = JSON.parse(line);
      const stored = await fetch(fhir(`Observation/${r.id}`), { headers: { authorization: `Bearer ${operator}` } });
      expect(await stored.text()).toBe(line);
    }
    // The files need the token, and are their client's.
    expect((await fetch(manifest.output[0].url)).status).toBe(401);
    expect((await fetch(manifest.output[0].url, { headers: { authorization: `Bearer ${msp}` } })).status).toBe(404);
  });

  it('filters by _type, _typeFilter and _since, and refuses what it does not support', async () => {
    const { files } = await exported(
      `$export?_type=Patient,Observation&_typeFilter=${encodeURIComponent('Observation?code=http://loinc.org|8867-4')}`,
      operator,
    );
    expect(Object.keys(files).sort()).toEqual(['Observation', 'Patient']);
    expect(files.Observation.map((l) => JSON.parse(l).id).sort()).toEqual(['obs-p1', 'obs-p2']);
    const later = await exported(`$export?_since=${encodeURIComponent(new Date(Date.now() + 60_000).toISOString())}`, operator);
    expect(later.manifest.output).toEqual([]);
    const bad = (q: string, headers: Record<string, string> = { prefer: 'respond-async' }) => call('GET', fhir(`$export${q}`), operator, undefined, headers);
    expect((await bad('', {})).status).toBe(400);
    expect((await bad('?_outputFormat=text/csv')).status).toBe(400);
    expect((await bad('?_since=yesterday')).status).toBe(400);
    expect((await bad('?_type=Nope')).status).toBe(400);
    expect((await bad('?_elements=name.family')).status).toBe(400);
    expect((await bad('?_elements=Nope.id')).status).toBe(400);
    expect((await bad('?includeAssociatedData=_mine')).status).toBe(400);
    expect((await bad('?includeAssociatedData=_mine', { prefer: 'respond-async, handling=lenient' })).status).toBe(202);
    expect((await bad(`?_typeFilter=${encodeURIComponent('Observation?nope=1')}`)).status).toBe(400);
    expect((await bad('?_outputFormat=ndjson')).status).toBe(202);
  });

  it('gives a system client of one MSP its patients’ data only, and traces what it exported', async () => {
    const { files } = await exported('Patient/$export', msp);
    expect(files.Patient.map((l) => JSON.parse(l).id)).toEqual(['p1']);
    expect(files.Observation.map((l) => JSON.parse(l).id).sort()).toEqual(['obs-p1', 'obs2-p1']);
    expect(files.Organization).toBeUndefined();
    const system = await exported('$export', msp);
    expect(system.files.Patient.map((l) => JSON.parse(l).id)).toEqual(['p1']);
    expect(system.files.Organization.length).toBe(2);
    const group = await finished(await kickOff('Group/cohort/$export?_type=Patient', operator), operator);
    expect(group.body.output.map((o: any) => o.count)).toEqual([2]);
    const errors = await download(group.body.error[0].url, operator);
    expect(JSON.parse(errors[0]).issue[0].diagnostics).toContain('Organization/msp');
    const trail = await t.server.db.query<{ patients: string[]; record: any }>(
      `SELECT patients, record FROM audit_trail WHERE record->>'operation' = '$export' AND client = $1`,
      [MSP_CLIENT],
    );
    expect(trail.length).toBe(2);
    expect(trail.every((e) => e.patients.join() === 'p1')).toBe(true);
    expect(trail[0].record.diagnostics).toMatch(/Observation 2/);
    // A scope of one type exports that type, and refuses another asked for.
    expect(
      (await call('GET', fhir('$export?_type=Patient'), await operatorToken(t.server.url, 'system/Observation.rs'), undefined, { prefer: 'respond-async' }))
        .status,
    ).toBe(403);
  });

  it('cancels: the status is gone, and so are its files', async () => {
    const url = await kickOff('$export', operator);
    const id = new URL(url).searchParams.get('_jobId');
    const del = await fetch(url, { method: 'DELETE', headers: { authorization: `Bearer ${operator}` } });
    expect(del.status).toBe(202);
    expect((await fetch(url, { headers: { authorization: `Bearer ${operator}` } })).status).toBe(404);
    await new Promise((r) => setTimeout(r, 300));
    const left = await t.server.db.query<{ n: number }>(
      `SELECT (SELECT count(*) FROM bulk_job WHERE id = $1) + (SELECT count(*) FROM bulk_file WHERE job = $1) + (SELECT count(*) FROM bulk_chunk WHERE job = $1) AS n`,
      [id],
    );
    expect(Number(left[0].n)).toBe(0);
  });

  it('keeps the elements asked for (_elements), tagged SUBSETTED, the mandatory ones with them', async () => {
    const { files } = await exported('$export?_type=Patient,Observation&_elements=Patient.name,status', operator);
    const tagged = (r: any) => r.meta.tag.some((t: any) => t.code === 'SUBSETTED' && t.system === 'http://terminology.hl7.org/CodeSystem/v3-ObservationValue');
    const patients = files.Patient.map((l) => JSON.parse(l));
    expect(patients.map((p) => Object.keys(p).sort())).toEqual([
      ['id', 'meta', 'name', 'resourceType'],
      ['id', 'meta', 'name', 'resourceType'],
    ]);
    expect(patients.every(tagged)).toBe(true);
    // Observation.code is mandatory: it comes along.
    const obs = JSON.parse(files.Observation[0]);
    expect(Object.keys(obs).sort()).toEqual(['code', 'id', 'meta', 'resourceType', 'status']);
    expect(tagged(obs)).toBe(true);
  });

  it('limits a Patient or Group export to the patients named (patient, POST), those the client may see', async () => {
    const p1 = [{ name: 'patient', valueReference: { reference: 'Patient/p1' } }];
    const p2 = [{ name: 'patient', valueReference: { reference: `${fhir('Patient/p2')}` } }];
    const one = await exported('Patient/$export', operator, [{ name: '_type', valueString: 'Patient,Observation' }, ...p1]);
    expect(one.files.Patient.map((l) => JSON.parse(l).id)).toEqual(['p1']);
    expect(one.files.Observation.map((l) => JSON.parse(l).id).sort()).toEqual(['obs-p1', 'obs2-p1']);
    const group = await exported('Group/cohort/$export', operator, [{ name: '_type', valueString: 'Patient' }, ...p2]);
    expect(group.files.Patient.map((l) => JSON.parse(l).id)).toEqual(['p2']);
    const refused = async (path: string, token: string, parameters: object[]) =>
      call('POST', fhir(path), token, { resourceType: 'Parameters', parameter: parameters }, { prefer: 'respond-async' });
    // Not for a system export; an unknown patient, and one outside the client's équipe de soins, alike.
    expect((await refused('$export', operator, p1)).status).toBe(400);
    const unknown = await refused('Patient/$export', operator, [{ name: 'patient', valueReference: { reference: 'Patient/nobody' } }]);
    expect(unknown.status).toBe(400);
    expect(unknown.body.issue[0].diagnostics).toContain('Patient/nobody');
    expect((await refused('Patient/$export', msp, p2)).status).toBe(400);
    // A Group holding another MSP's patient is not the MSP client's to export.
    expect((await refused('Group/cohort/$export', msp, [{ name: 'patient', valueReference: { reference: 'Patient/p1' } }])).status).toBe(403);
  });

  it('adds the Provenances of the resources exported (includeAssociatedData), the latest or all, those the client may see', async () => {
    // A second version of obs-p1: a second Provenance of it.
    const obs = (await call('GET', fhir('Observation/obs-p1'), operator)).body;
    expect((await call('PUT', fhir('Observation/obs-p1'), operator, { ...obs, status: 'amended' })).status).toBe(200);
    const targets = (line: string) => JSON.parse(line).target.map((t: any) => t.reference.replace(/\/_history\/.*/, ''));
    const latest = await exported('$export?_type=Observation&includeAssociatedData=LatestProvenanceResources', operator);
    expect(latest.files.Provenance.flatMap(targets).sort()).toEqual(['Observation/obs-p1', 'Observation/obs-p2', 'Observation/obs2-p1', 'Observation/obs2-p2']);
    expect(latest.files.Provenance.map((l) => JSON.parse(l).target[0].reference)).toContain('Observation/obs-p1/_history/2');
    const all = await exported('$export?_type=Observation&includeAssociatedData=LatestProvenanceResources,RelevantProvenanceResources', operator);
    expect(all.files.Provenance.flatMap(targets).filter((t) => t === 'Observation/obs-p1').length).toBe(2);
    // _elements applies to them as to any resource exported.
    const cut = await exported('$export?_type=Observation&includeAssociatedData=LatestProvenanceResources&_elements=Provenance.target', operator);
    expect(new Set(cut.files.Provenance.map((l) => Object.keys(JSON.parse(l)).sort().join()))).toEqual(new Set(['agent,id,meta,recorded,resourceType,target']));
    const mine = await exported('Patient/$export?includeAssociatedData=RelevantProvenanceResources', msp);
    expect(mine.files.Provenance.flatMap(targets).sort()).toEqual(['Observation/obs-p1', 'Observation/obs-p1', 'Observation/obs2-p1', 'Patient/p1']);
  });

  it('lists what was deleted since _since (transaction Bundles of DELETEs), what the client could have had only', async () => {
    const observation = (id: string, p: string) => ({
      resourceType: 'Observation',
      id,
      status: 'final',
      code: { text: 'gone' },
      subject: { reference: `Patient/${p}` },
    });
    const putThenDelete = async (id: string, p: string) => {
      expect((await call('PUT', fhir(`Observation/${id}`), operator, observation(id, p))).status).toBe(201);
      expect((await call('DELETE', fhir(`Observation/${id}`), operator)).status).toBe(200);
    };
    await putThenDelete('gone-before', 'p1');
    await new Promise((r) => setTimeout(r, 20));
    const since = new Date().toISOString();
    await new Promise((r) => setTimeout(r, 20));
    await putThenDelete('gone-p1', 'p1');
    await putThenDelete('gone-p2', 'p2');
    expect((await call('PUT', fhir('Observation/kept-p1'), operator, observation('kept-p1', 'p1'))).status).toBe(201);
    const deletedOf = async (path: string, token: string) => {
      const done = await finished(await kickOff(path, token), token);
      expect(done.status, JSON.stringify(done.body)).toBe(200);
      const bundles = (await Promise.all(done.body.deleted.map((d: { url: string }) => download(d.url, token)))).flat().map((l) => JSON.parse(l));
      expect(bundles.every((b) => b.resourceType === 'Bundle' && b.type === 'transaction')).toBe(true);
      return { manifest: done.body, deleted: bundles.flatMap((b) => b.entry.map((e: any) => `${e.request.method} ${e.request.url}`)).sort() };
    };
    const all = await deletedOf(`$export?_type=Observation,Patient&_since=${encodeURIComponent(since)}`, operator);
    expect(all.deleted).toEqual(['DELETE Observation/gone-p1', 'DELETE Observation/gone-p2']);
    expect(all.manifest.output.map((o: any) => o.type)).toEqual(['Observation']);
    expect(all.manifest.deleted).toEqual([expect.objectContaining({ type: 'Bundle', count: 1 })]);
    // The MSP's client was never given p2's data: it does not learn of its deletion either.
    expect((await deletedOf(`$export?_type=Observation&_since=${encodeURIComponent(since)}`, msp)).deleted).toEqual(['DELETE Observation/gone-p1']);
    expect((await deletedOf(`Patient/$export?_since=${encodeURIComponent(since)}`, msp)).deleted).toEqual(['DELETE Observation/gone-p1']);
    const group = await deletedOf(`Group/cohort/$export?_type=Observation&_since=${encodeURIComponent(since)}`, operator);
    expect(group.deleted).toEqual(['DELETE Observation/gone-p1', 'DELETE Observation/gone-p2']);
    // Without _since, no list of deletions.
    expect((await exported('$export?_type=Patient', operator)).manifest.deleted).toBeUndefined();
  });

  describe('with a client at its limit of jobs', () => {
    let idle: TestServer;
    beforeAll(async () => {
      // No runner: the jobs stay queued.
      idle = await startTestServer(kind, { auth: true, ...OPERATOR, bulk: { ...FAST_BULK.bulk, run: false, jobsPerClient: 2 } });
      return () => idle.stop();
    });

    it('refuses a third job in progress with 429 and Retry-After, until one is cancelled; other clients are not held up', async () => {
      const token = await operatorToken(idle.url);
      const kick = (path: string, tok: string, body?: string) =>
        call(body ? 'POST' : 'GET', `${idle.url}/fhir/${path}`, tok, body, {
          prefer: 'respond-async',
          ...(body ? { 'content-type': 'application/fhir+ndjson' } : {}),
        });
      const first = await kick('$export', token);
      expect(first.status).toBe(202);
      expect((await kick('Patient/$export', token)).status).toBe(202);
      for (const refused of [await kick('$export', token), await kick('$import', token, '{"resourceType":"Patient","id":"x"}\n')]) {
        expect(refused.status).toBe(429);
        expect(refused.headers.get('retry-after')).toMatch(/^\d+$/);
        expect(refused.body.issue[0]).toMatchObject({ code: 'throttled' });
      }
      const other = await registerApp(idle.url, { client_id: 'lgc-other-bulk', grant_types: ['client_credentials'], scope: 'system/*.rs' });
      const otherToken = (
        await postForm(`${idle.url}/auth/token`, { grant_type: 'client_credentials', client_id: 'lgc-other-bulk', client_secret: other.client_secret })
      ).body.access_token;
      expect((await kick('$export', otherToken)).status).toBe(202);
      expect((await fetch(first.headers.get('content-location') as string, { method: 'DELETE', headers: { authorization: `Bearer ${token}` } })).status).toBe(
        202,
      );
      expect((await kick('$export', token)).status).toBe(202);
    });
  });

  describe('into an empty server', () => {
    let empty: TestServer;
    beforeAll(async () => {
      empty = await startTestServer(kind, { auth: true, ...OPERATOR, ...FAST_BULK });
      return () => empty.stop();
    });

    it('imports the files of an export: the same resources, byte for byte', async () => {
      // The empty server has its own conformance resources: the pôle's data goes over.
      const types = '$export?_type=Patient,Observation,Organization,Group,Provenance';
      const source = await exported(types, operator);
      const token = await operatorToken(empty.url);
      const ndjson = Object.values(source.files).flat().join('\n');
      const res = await call('POST', `${empty.url}/fhir/$import`, token, `${ndjson}\n{"resourceType":"Patient","id":"bad","gender":"nope"}\nnot json\n`, {
        prefer: 'respond-async',
        'content-type': 'application/fhir+ndjson',
      });
      expect(res.status, JSON.stringify(res.body)).toBe(202);
      const done = await finished(res.headers.get('content-location') as string, token);
      expect(done.status, JSON.stringify(done.body)).toBe(200);
      const errors = await download(done.body.error[0].url, token);
      expect(
        done.body.output.reduce((n: number, o: any) => n + o.count, 0),
        errors.join('\n'),
      ).toBe(Object.values(source.files).flat().length);
      expect(errors.map((l) => JSON.parse(l).issue[0].diagnostics)).toEqual([
        expect.stringMatching(new RegExp(`line ${Object.values(source.files).flat().length + 1}: .*gender`)),
        expect.stringMatching(new RegExp(`line ${Object.values(source.files).flat().length + 2}: .*JSON`)),
      ]);
      const copy = await (async () => {
        const url = (await call('GET', `${empty.url}/fhir/${types}`, token, undefined, { prefer: 'respond-async' })).headers.get('content-location') as string;
        const m = await finished(url, token);
        const files: Record<string, string[]> = {};
        for (const o of m.body.output) files[o.type] = await download(o.url, token);
        return files;
      })();
      expect(Object.keys(copy).sort()).toEqual(Object.keys(source.files).sort());
      for (const type of Object.keys(copy)) expect(copy[type].join('\n') === source.files[type].join('\n'), type).toBe(true);
      // Searchable: the index rows went in with them.
      const found = await call('GET', `${empty.url}/fhir/Observation?code=8867-4&subject=Patient/p1`, token);
      expect(found.body.entry.map((e: any) => e.resource.id)).toEqual(['obs-p1']);
    });
  });
});
