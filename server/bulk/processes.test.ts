import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  FAST_BULK,
  freshPostgresDatabase,
  spawnServer,
  startTestServer,
  type PostgresDatabase,
  type ServerProcess,
  type TestServer,
} from '../../tests/harness.js';

/**
 * Several processes on one PostgreSQL database: a process that runs no bulk job (BULK_WORKER=off)
 * accepts an export; another process runs it; the first serves its status and files. Nothing
 * about a job lives in one process.
 */
describe.skipIf(!process.env.TEST_DATABASE_URL)('bulk jobs across processes on postgres', () => {
  let database: PostgresDatabase;
  let runner: TestServer;
  let front: ServerProcess;

  beforeAll(async () => {
    database = await freshPostgresDatabase('migrated');
    runner = await startTestServer('postgres', { databaseUrl: database.url, ...FAST_BULK });
    front = await spawnServer({ DATABASE_URL: database.url, BULK_WORKER: 'off' });
  }, 60_000);
  afterAll(async () => {
    front?.child.kill();
    await front?.exited;
    await runner?.stop();
    await database?.drop();
  });

  it('serves the status and files of an export that another process ran', async () => {
    const put = await fetch(`${runner.base}/Patient/px`, {
      method: 'PUT',
      headers: { 'content-type': 'application/fhir+json' },
      body: JSON.stringify({ resourceType: 'Patient', id: 'px', birthDate: '1970-01-01' }),
    });
    expect(put.status).toBe(201);
    const kick = await fetch(`${front.url}/fhir/Patient/$export?_type=Patient`, { headers: { prefer: 'respond-async' } });
    expect(kick.status).toBe(202);
    const status = kick.headers.get('content-location') as string;
    expect(status).toContain('/fhir/$export-poll-status?_jobId=');
    const jobId = status.split('_jobId=')[1];
    let manifest: any;
    for (let i = 0; i < 200 && !manifest; i++) {
      const res = await fetch(`${front.url}/fhir/$export-poll-status?_jobId=${jobId}`);
      if (res.status === 200) manifest = await res.json();
      else await new Promise((r) => setTimeout(r, 50));
    }
    expect(manifest.output).toEqual([{ type: 'Patient', url: expect.any(String), count: 1 }]);
    const text = await (await fetch(`${front.url}/fhir/${manifest.output[0].url.split('/fhir/')[1]}`)).text();
    expect(JSON.parse(text).id).toBe('px');
  });
});
