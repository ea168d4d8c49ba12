import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { client, DATABASES, freshPostgresDatabase, spawnServer, startTestServer, useServer, type TestServer } from '../../tests/harness.js';
import { INS_NIR, patients } from './fixtures.js';

/** A French SearchParameter: the INS of a patient, as FR Core defines a parameter for it. */
const insParam = {
  resourceType: 'SearchParameter',
  id: 'patient-ins',
  url: 'https://maillage.example/SearchParameter/patient-ins',
  name: 'ins',
  status: 'active',
  description: "L'INS du patient",
  code: 'ins',
  base: ['Patient'],
  type: 'token',
  expression: `Patient.identifier.where(system = '${INS_NIR}')`,
};

/** Polls a request until it answers `status`, for up to two seconds. */
async function eventually(call: () => Promise<{ status: number; body: any }>, status: number) {
  let res = await call();
  for (let i = 0; i < 40 && res.status !== status; i++) {
    await new Promise((r) => setTimeout(r, 50));
    res = await call();
  }
  expect(res.status).toBe(status);
  return res;
}

const ids = (body: any) =>
  body.entry
    .filter((e: any) => e.search.mode === 'match')
    .map((e: any) => e.resource.id)
    .sort();

describe.each(DATABASES)('SearchParameters loaded at run time on %s', (kind) => {
  const t = useServer(kind);

  it('take effect at once for writes and searches; $reindex backfills existing resources', async () => {
    await t.api.put('Patient/helene', patients[0]);
    const strict = { prefer: 'handling=strict' };
    expect((await t.api.get('Patient?ins=250067512345608', strict)).status).toBe(400);
    expect((await t.api.put('SearchParameter/patient-ins', insParam)).status).toBe(201);
    // known at once; written before the parameter existed, helene is not indexed yet
    const before = await t.api.get('Patient?ins=250067512345608', strict);
    expect(before.status).toBe(200);
    expect(ids(before.body)).toEqual([]);
    await t.api.put('Patient/jerome', patients[1]);
    expect(ids((await t.api.get('Patient?ins=182116912345690', strict)).body)).toEqual(['jerome']);
    const reindexed = await t.api.post('Patient/$reindex', undefined);
    expect(reindexed.status).toBe(200);
    expect(reindexed.body.parameter[0]).toEqual({ name: 'count', valueInteger: 2 });
    expect(ids((await t.api.get('Patient?ins=250067512345608', strict)).body)).toEqual(['helene']);
    expect(ids((await t.api.get(`Patient?ins=${encodeURIComponent(`${INS_NIR}|`)}`, strict)).body)).toEqual(['helene', 'jerome']);
    expect((await t.api.get('metadata')).body.rest[0].resource.find((r: any) => r.type === 'Patient').searchParam.map((p: any) => p.name)).toContain('ins');
    // deleted, it is unknown again
    await t.api.delete('SearchParameter/patient-ins');
    expect((await t.api.get('Patient?ins=250067512345608', strict)).status).toBe(400);
  });

  it('one derived from another reference parameter finds what was written before it, without $reindex', async () => {
    const observation = { resourceType: 'Observation', id: 'weight', status: 'final', code: { text: 'poids' }, subject: { reference: 'Patient/helene' } };
    const ofGroup = { ...observation, id: 'group-weight', subject: { reference: 'Group/helene' } };
    for (const r of [observation, ofGroup]) expect((await t.api.put(`Observation/${r.id}`, r)).status).toBe(201);
    const derived = {
      ...insParam,
      id: 'observation-de',
      url: 'https://maillage.example/SearchParameter/observation-de',
      name: 'de',
      code: 'de',
      base: ['Observation'],
      type: 'reference',
      target: ['Patient'],
      expression: 'Observation.subject.where(resolve() is Patient)',
    };
    expect((await t.api.put('SearchParameter/observation-de', derived)).status).toBe(201);
    expect(ids((await t.api.get('Observation?de=helene', { prefer: 'handling=strict' })).body)).toEqual(['weight']);
    await t.api.delete('SearchParameter/observation-de');
  });
});

describe.runIf(DATABASES.includes('postgres'))('SearchParameters across server processes on postgres', () => {
  let db: Awaited<ReturnType<typeof freshPostgresDatabase>>;
  let server: TestServer;
  beforeAll(async () => {
    db = await freshPostgresDatabase('loaded');
    server = await startTestServer('postgres', { databaseUrl: db.url });
  });
  afterAll(async () => {
    await server?.stop();
    await db?.drop();
  });

  it('another process picks up a SearchParameter within a second; maillage reindex backfills with progress', async () => {
    const api = client(server.base);
    await api.put('Patient/helene', patients[0]);
    const other = await spawnServer({ DATABASE_URL: db.url });
    try {
      const otherApi = client(`${other.url}/fhir`);
      expect((await otherApi.get('Patient?ins=250067512345608', { prefer: 'handling=strict' })).status).toBe(400);
      await api.put('SearchParameter/patient-ins', insParam);
      // the other process searches on it, and indexes its writes with it, without a restart
      await eventually(() => otherApi.get('Patient?ins=x', { prefer: 'handling=strict' }), 200);
      await otherApi.put('Patient/jerome', patients[1]);
      expect(ids((await otherApi.get('Patient?ins=182116912345690', { prefer: 'handling=strict' })).body)).toEqual(['jerome']);
      expect(ids((await api.get('Patient?ins=182116912345690', { prefer: 'handling=strict' })).body)).toEqual(['jerome']);
    } finally {
      other.child.kill('SIGTERM');
      await other.exited;
    }
    const { stdout, stderr } = await promisify(execFile)(process.execPath, ['--import', 'tsx', 'cli/maillage.ts', 'reindex', '--type', 'Patient'], {
      env: { ...process.env, DATABASE_URL: db.url, LOG_LEVEL: 'warn' },
    });
    expect(stderr).toContain('reindexed 2/2 (100%)');
    expect(stdout).toContain('Reindexed 2 resources');
    expect(ids((await api.get('Patient?ins=250067512345608')).body)).toEqual(['helene']);
  });
});
