import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import Bunzip from 'seek-bzip';
import { describe, expect, it } from 'vitest';
import { DATABASES, FAST_BULK, useServer } from '../../tests/harness.js';
import type { Database } from '../store/db.js';
import { THREADS_AFTER } from './prepare-pool.js';

/*
 * The bulk write path (COPY, lines prepared in worker threads) against the transaction's: the
 * same Synthea patients written both ways give the same stored resources, history, change feed,
 * care links, index rows and search results.
 */

const SYNTHEA = fileURLToPath(new URL('../../../shared/data/synthea/', import.meta.url));
/** The pôle's organisations and professionals, then a patient's record: past THREADS_AFTER lines, its last ones prepared in threads. */
const FILES = [
  '0-hospitalInformation1625911868739.json.bz2',
  '0-practitionerInformation1625911868739.json.bz2',
  '13956cdf-f7cc-1cd7-9c99-eb796db62ec7.json.bz2',
];

type Res = { resourceType: string; id: string; identifier?: { system?: string; value?: string }[] };

/** The resources of the files, their urn:uuid and conditional references made literal (as a transaction resolves them). */
function syntheaResources(): Res[] {
  const entries = FILES.flatMap(
    (f) => (JSON.parse(Bunzip.decode(readFileSync(`${SYNTHEA}${f}`)).toString('utf8')) as { entry: { fullUrl: string; resource: Res }[] }).entry,
  );
  const refs = new Map<string, string>();
  for (const { fullUrl, resource: r } of entries) {
    r.id ??= fullUrl.replace('urn:uuid:', '');
    refs.set(fullUrl, `${r.resourceType}/${r.id}`);
    for (const i of r.identifier ?? []) refs.set(`${r.resourceType}?identifier=${i.system}|${i.value}`, `${r.resourceType}/${r.id}`);
  }
  return entries.map(
    (e) => JSON.parse(JSON.stringify(e.resource, (k, v) => (k === 'reference' && typeof v === 'string' && refs.has(v) ? refs.get(v) : v))) as Res,
  );
}

/**
 * What both paths must have written alike for the resources given (a transaction adds its own
 * records, Provenances): every row of the tables a write fills, as comparable text.
 */
async function written(db: Database, given: Res[]): Promise<Record<string, string[]>> {
  const keys = [given.map((r) => r.resourceType), given.map((r) => r.id)];
  const rows = async (sql: string) =>
    (
      await db.query<{ row: string }>(
        `WITH k AS (SELECT * FROM unnest($1::text[], $2::text[]) AS k(type, id)) SELECT x::text AS row FROM (${sql}) x ORDER BY 1`,
        keys,
      )
    ).map((r) => r.row);
  const index = async (table: string, columns: string) =>
    rows(`SELECT r.type, r.id, s.param, ${columns}, s.grp FROM sp_${table} s JOIN resource r ON r.rid = s.rid JOIN k ON k.type = r.type AND k.id = r.id`);
  return {
    // Contents without meta.lastUpdated, the time of each write.
    resources: await rows(`SELECT type, id, version, deleted, (content::jsonb #- '{meta,lastUpdated}')::text FROM resource JOIN k USING (type, id)`),
    history: await rows(
      `SELECT type, id, version, method, (content::jsonb #- '{meta,lastUpdated}')::text, patients FROM resource_version JOIN k USING (type, id)`,
    ),
    feed: await rows(`SELECT type, id, version, interaction, patients FROM change_feed JOIN k USING (type, id)`),
    careLinks: await rows(
      `SELECT r.type, r.id, c.patient, c.kind, c.actor, c.start, c.until FROM care_link c JOIN resource r ON r.rid = c.rid JOIN k ON k.type = r.type AND k.id = r.id`,
    ),
    string: await index('string', 'value, exact'),
    token: await index('token', 'system, code, text'),
    date: await index('date', 'low, high'),
    number: await index('number', 'value, low, high'),
    quantity: await index('quantity', 'system, code, unit, value, low, high'),
    uri: await index('uri', 'value'),
    reference: await index('reference', 'target_type, target_id, url'),
    text: await index('text', 'doc'),
  };
}

const SEARCHES = [
  'Patient?name=a&_sort=_id',
  'Patient?birthdate=ge1950&_sort=birthdate',
  'Observation?code=http://loinc.org|8302-2&_sort=date',
  'Observation?value-quantity=gt100&_sort=_id',
  'Observation?date=ge2015-01-01&category=vital-signs&_sort=-date',
  'Encounter?class=AMB&_sort=date&_include=Encounter:practitioner',
  'Condition?code:text=disorder&_sort=_id',
  'Organization?_has:Encounter:service-provider:class=AMB&_sort=_id',
  'Practitioner?_content=Dr&_sort=_id',
  'Claim?use=claim&_sort=_id&_count=7',
];
const idsOf = (bundle: any) => (bundle.entry ?? []).map((e: any) => `${e.search?.mode}:${e.resource.resourceType}/${e.resource.id}`);

describe.each(DATABASES)('bulk import against transactions on %s', (kind) => {
  const viaTransaction = useServer(kind, FAST_BULK);
  const viaImport = useServer(kind, FAST_BULK);

  it('writes what a transaction writes, row for row; a bad line is reported with its number and nothing of it written', async () => {
    const resources = syntheaResources();
    expect(resources.length).toBeGreaterThan(THREADS_AFTER + 200);
    const tx = await viaTransaction.api.post('', {
      resourceType: 'Bundle',
      type: 'transaction',
      entry: resources.map((r) => ({ resource: r, request: { method: 'PUT', url: `${r.resourceType}/${r.id}` } })),
    });
    expect(tx.status).toBe(200);

    // Two bad lines among those the worker threads prepare, numbered as in the file.
    const lines = resources.map((r) => JSON.stringify(r));
    const bad = THREADS_AFTER + 50;
    lines.splice(bad - 1, 0, '{"resourceType":"Observation","id":"bad-1","code":{"text":"x"}}');
    lines.splice(bad, 0, '{"resourceType":"Observation", "id":');
    const kickOff = await fetch(`${viaImport.server.base}/$import`, {
      method: 'POST',
      headers: { 'content-type': 'application/fhir+ndjson', prefer: 'respond-async' },
      body: `${lines.join('\n')}\n`,
    });
    expect(kickOff.status).toBe(202);
    const status = kickOff.headers.get('content-location') as string;
    let manifest: any;
    for (let i = 0; i < 1200 && !manifest; i++) {
      const poll = await viaImport.api.get(status);
      if (poll.status === 200) manifest = poll.body;
      else await new Promise((r) => setTimeout(r, 100));
    }
    expect(manifest.output.reduce((n: number, o: any) => n + o.count, 0)).toBe(resources.length);
    const errors = await (await fetch(manifest.error[0].url)).text();
    expect(
      errors
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l).issue[0].diagnostics),
    ).toEqual([expect.stringMatching(new RegExp(`line ${bad}: .*status`)), expect.stringMatching(new RegExp(`line ${bad + 1}: .*JSON`))]);
    expect((await viaImport.api.get('Observation/bad-1')).status).toBe(404);

    const [a, b] = [await written(viaTransaction.server.db, resources), await written(viaImport.server.db, resources)];
    expect(a.resources.length).toBe(resources.length);
    for (const key of Object.keys(a)) expect({ key, rows: b[key] }).toEqual({ key, rows: a[key] });
    expect(a.text.length).toBeGreaterThan(0);

    for (const search of SEARCHES) {
      const [x, y] = [await viaTransaction.api.get(search), await viaImport.api.get(search)];
      expect(x.status).toBe(200);
      expect({ search, total: y.body.total, ids: idsOf(y.body) }).toEqual({ search, total: x.body.total, ids: idsOf(x.body) });
    }
    const some = resources.find((r) => r.resourceType === 'Encounter') as Res;
    const history = await viaImport.api.get(`Encounter/${some.id}/_history`);
    expect(history.body.total).toBe(1);
    // Some 1,400 resources written twice, and worker threads started: a few seconds on a quiet machine, more on a shared one.
  }, 240_000);
});
