import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import Bunzip from 'seek-bzip';
import { describe, expect, it } from 'vitest';
import { DATABASES, useServer } from './harness.js';

/**
 * The third-party Synthea sample (see its SOURCES.md): 2 batch Bundles of organisations, locations
 * and practitioners with ifNoneExist, then 120 patient transactions with urn:uuid fullUrls and
 * conditional references. By default both databases load the batch Bundles and the first
 * SUBSET_PATIENTS patient Bundles (by file name), checked against the counts of what was sent: the
 * full load takes ten minutes, too long for CI. With SYNTHEA=full, PostgreSQL loads all 122 and
 * must reach the counts SOURCES.md publishes. The data lies in ../shared (MAILLAGE_SHARED).
 */
const SHARED = process.env.MAILLAGE_SHARED ?? fileURLToPath(new URL('../../shared/', import.meta.url));
const DIR = `${SHARED.replace(/\/$/, '')}/data/synthea/`;
const SUBSET_PATIENTS = 10;
const FULL = process.env.SYNTHEA === 'full';

const files = existsSync(DIR)
  ? readdirSync(DIR)
      .filter((f) => f.endsWith('.json.bz2'))
      .sort()
  : [];
const batches = files.filter((f) => f.startsWith('0-'));
const patients = files.filter((f) => !f.startsWith('0-'));
const read = (file: string) => Bunzip.decode(readFileSync(`${DIR}${file}`)).toString('utf8');

/** The counts per type that SOURCES.md publishes for the whole load. */
function publishedCounts(): Map<string, number> {
  const text = readFileSync(`${DIR}SOURCES.md`, 'utf8');
  return new Map([...text.matchAll(/\| ([A-Z]\w+) \| (\d+) /g)].map((m) => [m[1], Number(m[2])]));
}

if (!files.length) console.warn(`Synthea data not found in ${DIR}: its test is skipped (set MAILLAGE_SHARED)`);

describe.skipIf(!files.length).each(DATABASES)('Synthea sample on %s', (kind) => {
  const t = useServer(kind);

  it('loads completely: every Bundle accepted, counts per type as expected, references resolved', { timeout: 1_800_000 }, async () => {
    const loaded = FULL && kind === 'postgres' ? patients : patients.slice(0, SUBSET_PATIENTS);
    const expected = new Map<string, number>();
    let resources = 0;
    const started = Date.now();
    for (const file of [...batches, ...loaded]) {
      const text = read(file);
      const bundle = JSON.parse(text) as { type: string; entry: { request: { url: string } }[] };
      for (const e of bundle.entry) expected.set(e.request.url, (expected.get(e.request.url) ?? 0) + 1);
      resources += bundle.entry.length;
      const res = await t.api.post('', text, { prefer: 'return=minimal' });
      expect(res.status, `${file}: ${JSON.stringify(res.body?.issue ?? '')}`).toBe(200);
      const refused = res.body.entry.filter((e: { response: { status: string } }) => !/^20[01] /.test(e.response.status));
      expect(refused, file).toEqual([]);
    }
    const seconds = (Date.now() - started) / 1000;
    console.log(`${kind}: ${loaded.length} patient Bundles, ${resources} resources in ${seconds.toFixed(0)} s (${(resources / seconds).toFixed(0)}/s)`);

    if (loaded.length === patients.length) expect(expected).toEqual(publishedCounts());
    for (const [type, n] of expected) {
      expect((await t.api.get(`${type}?_total=accurate&_count=0`)).body.total, type).toBe(n);
    }
    // The urn:uuid and conditional references of a patient Bundle now point at stored resources.
    const first = JSON.parse(read(loaded[0])) as { entry: { resource: { resourceType: string; identifier?: { system: string; value: string }[] } }[] };
    const pat = first.entry.find((e) => e.resource.resourceType === 'Patient')?.resource.identifier?.[0] as { system: string; value: string };
    const found = await t.api.get(`Patient?identifier=${pat.system}|${pat.value}`);
    const patientId = found.body.entry[0].resource.id;
    const encounters = first.entry.filter((e) => e.resource.resourceType === 'Encounter').length;
    expect((await t.api.get(`Encounter?subject=Patient/${patientId}&_total=accurate&_count=0`)).body.total).toBe(encounters);
    const encounter = (await t.api.get(`Encounter?subject=Patient/${patientId}&_count=1`)).body.entry[0].resource;
    expect(encounter.serviceProvider.reference).toMatch(/^Organization\/[\w-]+$/);
    expect(encounter.participant[0].individual.reference).toMatch(/^Practitioner\/[\w-]+$/);
    expect((await t.api.get(encounter.serviceProvider.reference)).status).toBe(200);
  });
});
