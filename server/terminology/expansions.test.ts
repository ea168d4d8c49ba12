import { readdirSync, readFileSync } from 'node:fs';
import type { Bundle, Resource, ValueSet } from '@medplum/fhirtypes';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { DATABASES, useServer } from '../../tests/harness.js';

/**
 * Our expansions against the IG Publisher's, for the value sets of FR Core 2.2.0 and 2.1.0,
 * Annuaire and Cercle de soins (../shared/fhir): the packages' code systems and value sets are
 * loaded like any resource, the NOS code systems are ours (terminology/nos), HL7 ones the R4
 * terminology. Same codes for the same value sets, but for the differences listed with their cause.
 */
const SHARED = `${process.env.FHIR_PACKAGES ?? fileURLToPath(new URL('../../../shared/fhir', import.meta.url))}/`;

const PACKAGES = [
  { folder: 'hl7.fhir.fr.core#2.2.0', expansions: 'other/expansions.filtered.json', tag: 'c22' },
  { folder: 'hl7.fhir.fr.core#2.1.0', expansions: 'other/expansions.json', tag: 'c21' },
  { folder: 'ans.fhir.fr.annuaire#1.2.0-snapshot-2', expansions: 'other/expansions.json', tag: 'an' },
  { folder: 'ans.fhir.fr.cds#2.0.1', expansions: 'other/expansions.json', tag: 'cds' },
];

const MARITAL_C = 'http://terminology.hl7.org/CodeSystem/v3-MaritalStatus|C';
/** Where ours differs from the publisher's: codes only the publisher has, or only we have, and why. */
const DIFFERENCES: Record<string, { missing?: string[]; extra?: 'some'; why: string }> = {
  'c22 fr-core-vs-marital-status': { missing: [MARITAL_C], why: 'v3-MaritalStatus 4.0.0 (THO) has C, Common Law; the R4 version held does not' },
  'c21 fr-core-vs-marital-status': { missing: [MARITAL_C], why: 'the same' },
  'c21 fr-core-vs-availability-time-day': { extra: 'some', why: "the publisher's expansion is empty (it failed on days-of-week|4.0.1)" },
  'c21 fr-core-vs-practitioner-role-exercice': { extra: 'some', why: 'NOS versions held are newer than 1.3.0: TRE_R21, R85 and R23 have codes added since' },
  'c21 fr-core-vs-relation-type': { extra: 'some', why: 'TRE_R216 20241213120000 has 36 codes more than 1.3.0' },
};
/** Value sets that cannot be expanded here, and why. */
const NOT_EXPANDED: Record<string, string> = {
  'c21 fr-core-vs-height-body-position': 'SNOMED CT (is-a filters) is not held',
};

const readJson = <T>(path: string) => JSON.parse(readFileSync(path, 'utf8')) as T;

/**
 * The package's code systems and value sets, with ids tagged by package so that several versions
 * of one canonical are held at once. Cercle de soins' careteam-roles-vs carries empty translation
 * extensions (ext-1) and a designation without value: a fault of the package, which the server
 * refuses; they are dropped.
 */
function terminologyOf(folder: string, tag: string): Resource[] {
  const dir = `${SHARED}${folder}/package/`;
  return readdirSync(dir)
    .filter((f) => /^(CodeSystem|ValueSet)-.*\.json$/.test(f))
    .map((f) => {
      const { _name, _title, _description, ...r } = readJson<ValueSet & Record<string, unknown>>(dir + f);
      for (const include of r.compose?.include ?? []) {
        for (const c of include.concept ?? []) {
          const designations = c.designation?.filter((d) => d.value);
          c.designation = designations?.length ? designations : undefined;
        }
      }
      return { ...r, id: `${tag}-${r.id}`.slice(0, 64) } as Resource;
    });
}

describe.each(DATABASES)('expansions against the IG Publisher on %s', (kind) => {
  const t = useServer(kind, { terminology: 'nos' });

  beforeAll(async () => {
    const entry = PACKAGES.flatMap((p) => terminologyOf(p.folder, p.tag)).map((resource) => ({
      resource,
      request: { method: 'PUT' as const, url: `${resource.resourceType}/${resource.id}` },
    }));
    const res = await t.api.post('', { resourceType: 'Bundle', type: 'transaction', entry } satisfies Bundle);
    expect(res.status, JSON.stringify(res.body).slice(0, 500)).toBe(200);
  });

  it.each(PACKAGES)('$folder: the same codes', async ({ folder, expansions, tag }) => {
    const published = readJson<Bundle<ValueSet>>(`${SHARED}${folder}/${expansions}`);
    const seen = new Set<string>();
    const report: string[] = [];
    for (const { resource: vs } of published.entry ?? []) {
      if (!vs?.url || seen.has(vs.url)) continue;
      seen.add(vs.url);
      const name = `${tag} ${vs.url.split('/').pop()}`;
      const theirs = new Set((vs.expansion?.contains ?? []).map((c) => `${c.system}|${c.code}`));
      const res = await t.api.get(`ValueSet/$expand?url=${encodeURIComponent(`${vs.url}|${vs.version}`)}`);
      expect(res.status, name).toBe(200);
      const ours = new Set<string>(res.body.expansion.contains?.map((c: { system: string; code: string }) => `${c.system}|${c.code}`) ?? []);
      if (NOT_EXPANDED[name]) {
        expect(ours.size, name).toBe(0);
        continue;
      }
      const missing = [...theirs].filter((c) => !ours.has(c));
      const extra = [...ours].filter((c) => !theirs.has(c));
      const expected = DIFFERENCES[name];
      expect({ name, missing }).toEqual({ name, missing: expected?.missing ?? [] });
      expect({ name, extra: extra.length > 0 }).toEqual({ name, extra: expected?.extra === 'some' });
      report.push(name);
    }
    expect(report.length).toBeGreaterThan(0);
  });

  it("expands Maillage's NOS value sets to the codes the ANS publishes", async () => {
    const extract = `${SHARED}ans.fr.terminologies#1.12.0-extract/`;
    for (const f of readdirSync(extract).filter((f) => f.startsWith('ValueSet-'))) {
      const vs = readJson<ValueSet>(extract + f);
      const res = await t.api.get(`ValueSet/$expand?url=${encodeURIComponent(`${vs.url}|${vs.version}`)}`);
      const ours = res.body.expansion.contains.map((c: { system: string; code: string; display: string }) => [c.system, c.code, c.display]);
      const theirs = (vs.compose?.include ?? []).flatMap((i) => (i.concept ?? []).map((c) => [i.system, c.code, c.display]));
      expect(ours, f).toEqual(theirs);
    }
  });
});
