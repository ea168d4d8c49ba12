import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { availableParallelism } from 'node:os';
import type { Worker } from 'node:worker_threads';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DATABASES, FAST_BULK, openTestDatabase, useServer } from '../../tests/harness.js';
import type { Database } from '../store/db.js';
import { loadBaseDefinitions } from '../validation/registry.js';
import { BATCH_SIZE, importLines } from './import-lines.js';
import { THREADS_AFTER } from './prepare-pool.js';

const FHIR_BASE = 'http://127.0.0.1/fhir';
const observation = (i: number) =>
  JSON.stringify({
    resourceType: 'Observation',
    id: `o${i}`,
    status: 'final',
    code: { text: 'x' },
    subject: { reference: 'Patient/p' },
    valueQuantity: { value: 1.5 },
  });
async function* lines(texts: string[]) {
  yield* texts;
}

describe.each(DATABASES)('bulk import on %s', (kind) => {
  let db: Database;
  let close: () => Promise<void>;
  beforeAll(async () => {
    loadBaseDefinitions();
    ({ db, close } = await openTestDatabase(kind, 'migrated'));
  });
  afterAll(() => close());
  const stored = async (prefix: string) =>
    (await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM resource WHERE type = 'Observation' AND id LIKE $1`, [`${prefix}%`]))[0].n;

  it('writes a batch whole or not at all, and resumes after the lines done', async () => {
    const texts = Array.from({ length: BATCH_SIZE + 10 }, (_, i) => observation(i).replace(`"o${i}"`, `"a${i}"`));
    let commits = 0;
    // The second batch's transaction fails at its end: none of its resources stays.
    await expect(
      importLines(db, { fhirBase: FHIR_BASE, testIdentities: true }, 'a.ndjson', lines(texts), 0, async () => {
        if (++commits === 2) throw new Error('crash');
      }),
    ).rejects.toThrow('crash');
    expect(await stored('a')).toBe(BATCH_SIZE);
    // Resumed after the first batch's lines: the rest goes in, nothing twice.
    const done: number[] = [];
    await importLines(db, { fhirBase: FHIR_BASE, testIdentities: true }, 'a.ndjson', lines(texts), BATCH_SIZE, async (_tx, upTo) => {
      done.push(upTo);
    });
    expect(done).toEqual([BATCH_SIZE + 10]);
    expect(await stored('a')).toBe(BATCH_SIZE + 10);
    const [{ n }] = await db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM sp_reference r JOIN resource x ON x.rid = r.rid WHERE x.id LIKE 'a%' AND r.param = 'subject'`,
    );
    expect(n).toBe(BATCH_SIZE + 10);
  });

  it('prepares again the lines of worker threads that die, with threads started anew: every line written once', async () => {
    const texts = Array.from({ length: THREADS_AFTER + 600 }, (_, i) => observation(i).replace(`"o${i}"`, `"c${i}"`));
    const threads: Worker[] = [];
    const started = (w: Worker) => threads.push(w);
    // Once two chunks are in the threads' hands (lines past THREADS_AFTER), every thread is killed.
    async function* killing() {
      for (const [i, text] of texts.entries()) {
        if (i === THREADS_AFTER + 400) {
          while (!threads.length) await new Promise((r) => setTimeout(r, 10));
          await Promise.all(threads.map((t) => t.terminate()));
        }
        yield text;
      }
    }
    process.on('worker', started);
    try {
      await importLines(db, { fhirBase: FHIR_BASE, testIdentities: true }, 'c.ndjson', killing(), 0, async () => undefined);
    } finally {
      process.off('worker', started);
    }
    expect(threads.length).toBeGreaterThan(availableParallelism());
    expect(await stored('c')).toBe(texts.length);
    const [{ n, versions }] = await db.query<{ n: number; versions: number }>(
      `SELECT count(*)::int AS n, count(DISTINCT version)::int AS versions FROM resource_version WHERE type = 'Observation' AND id LIKE 'c%'`,
    );
    expect({ n, versions }).toEqual({ n: texts.length, versions: 1 });
  });

  it('reports a bad line with its number and reason, takes the others, and versions a resource given twice', async () => {
    const errors: string[] = [];
    const texts = [observation(1).replace('"o1"', '"b1"'), '', '{"resourceType":"Observation","id":"b2"}', '[1', observation(3).replace('"o3"', '"b1"')];
    await importLines(db, { fhirBase: FHIR_BASE, testIdentities: true }, 'b.ndjson', lines(texts), 0, async (_tx, _upTo, _written, errs) => {
      for (const e of errs) errors.push(`${e.source}:${e.line}: ${e.reason}`);
    });
    expect(errors).toEqual([expect.stringMatching(/^b\.ndjson:3: .*(status|code)/), expect.stringMatching(/^b\.ndjson:4: .*JSON/)]);
    const [row] = await db.query<{ version: number; content: string }>(`SELECT version, content FROM resource WHERE type = 'Observation' AND id = 'b1'`);
    expect(row.version).toBe(2);
    expect(JSON.parse(row.content).meta.versionId).toBe('2');
  });
});

describe.each(DATABASES)('$import by URL on %s', (kind) => {
  const t = useServer(kind, FAST_BULK);
  let files: Server;
  let filesUrl: string;
  beforeAll(async () => {
    files = createServer((req, res) => {
      res.setHeader('content-type', 'application/fhir+ndjson');
      res.end(
        req.url === '/patients.ndjson'
          ? '{"resourceType":"Patient","id":"u1","meta":{"versionId":"3","lastUpdated":"2020-01-01T00:00:00.000Z"}}\n'
          : `${observation(9)}\n`,
      );
    });
    await new Promise<void>((r) => files.listen(0, '127.0.0.1', r));
    filesUrl = `http://127.0.0.1:${(files.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((r) => files.close(() => r())));

  it('takes HAPI’s Parameters of inputs by URL, keeps ids and versions, and cancels', async () => {
    const body = {
      resourceType: 'Parameters',
      parameter: [
        { name: 'inputFormat', valueCode: 'application/fhir+ndjson' },
        {
          name: 'input',
          part: [
            { name: 'type', valueCode: 'Patient' },
            { name: 'url', valueUri: `${filesUrl}/patients.ndjson` },
          ],
        },
        {
          name: 'input',
          part: [
            { name: 'type', valueCode: 'Observation' },
            { name: 'url', valueUri: `${filesUrl}/observations.ndjson` },
          ],
        },
      ],
    };
    expect((await t.api.post('$import', body)).status).toBe(400);
    const res = await t.api.post('$import', body, { prefer: 'respond-async' });
    expect(res.status).toBe(202);
    const status = res.headers.get('content-location') as string;
    expect(status).toContain('$import-poll-status?_jobId=');
    let done: any;
    for (let i = 0; i < 200 && !done; i++) {
      const poll = await t.api.get(status);
      if (poll.status === 200) done = poll.body;
      else await new Promise((r) => setTimeout(r, 50));
    }
    expect(done.output).toEqual([
      { type: 'Patient', count: 1 },
      { type: 'Observation', count: 1 },
    ]);
    const patient = await t.api.get('Patient/u1');
    expect(patient.body.meta).toEqual({ versionId: '3', lastUpdated: '2020-01-01T00:00:00.000Z' });
    expect((await t.api.delete(status)).status).toBe(202);
    expect((await t.api.get(status)).status).toBe(404);
    expect(
      (
        await t.api.post(
          '$import',
          { resourceType: 'Parameters', parameter: [{ name: 'input', part: [{ name: 'url', valueUri: 'file:///etc/passwd' }] }] },
          { prefer: 'respond-async' },
        )
      ).status,
    ).toBe(400);
  });
});
