import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DATABASES, useServer } from '../../tests/harness.js';
import { readPackage } from './files.js';

const SHARED = process.env.FHIR_PACKAGES ?? new URL('../../../shared/fhir', import.meta.url).pathname;
const env = { FHIR_PACKAGES: process.env.FHIR_PACKAGES, FHIR_PACKAGE_REGISTRY: process.env.FHIR_PACKAGE_REGISTRY };
beforeAll(() => {
  process.env.FHIR_PACKAGES = SHARED;
  process.env.FHIR_PACKAGE_REGISTRY = 'off';
});
afterAll(() => {
  for (const [k, v] of Object.entries(env))
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
});

const load = (name: string, version: string) => ({
  resourceType: 'Parameters',
  parameter: [
    { name: 'name', valueString: name },
    { name: 'version', valueString: version },
  ],
});
const texts = (outcome: { issue: { details?: { text?: string }; diagnostics?: string }[] }) => outcome.issue.map((i) => i.details?.text ?? i.diagnostics ?? '');
const errors = (outcome: { issue: { severity: string; expression?: string[]; details?: { text?: string } }[] }) =>
  outcome.issue.filter((i) => i.severity === 'error').map((i) => `${i.expression?.[0]}: ${i.details?.text ?? (i as { diagnostics?: string }).diagnostics}`);

describe.each(DATABASES)('French profiles and packages on %s', (kind) => {
  const t = useServer(kind);
  const core = readPackage(`${SHARED}/hl7.fhir.fr.core#2.2.0`);
  const example = (type: string, id: string) => structuredClone(core.examples.find((e) => e.resourceType === type && e.id === id)) as any;

  it("serves Maillage's profiles by canonical URL and lists them in /metadata", async () => {
    const found = await t.api.get('StructureDefinition?url=https://fhir.maillage.fr/StructureDefinition/maillage-patient');
    expect(found.body.entry).toHaveLength(1);
    expect(found.body.entry[0].resource.snapshot.element.length).toBeGreaterThan(50);
    const metadata = await t.api.get('metadata');
    const patient = metadata.body.rest[0].resource.find((r: { type: string }) => r.type === 'Patient');
    expect(patient.supportedProfile).toContain('https://fhir.maillage.fr/StructureDefinition/maillage-patient|0.1.0');
  });

  it('loads FR Core, then the Annuaire, then Cercle de soins, idempotently, telling which versions stand in', async () => {
    const first = await t.api.post('$load-package', load('hl7.fhir.fr.core', '2.2.0'));
    expect(first.status).toBe(200);
    expect(texts(first.body).join('\n')).toMatch(/hl7.fhir.fr.core#2.2.0: 142 resources, 142 written/);
    const again = await t.api.post('$load-package', load('hl7.fhir.fr.core', '2.2.0'));
    expect(texts(again.body).join('\n')).toMatch(/hl7.fhir.fr.core#2.2.0: 142 resources, 0 written/);
    expect((await t.api.post('$load-package', load('ans.fhir.fr.annuaire', '1.2.0-snapshot-2'))).status).toBe(200);
    const cds = await t.api.post('$load-package', load('ans.fhir.fr.cds', '2.0.1'));
    expect(texts(cds.body)[0] + cds.status).toMatch(/200$/);
    const said = texts(cds.body).join('\n');
    expect(said).toContain('ans.fhir.fr.annuaire#1.1.0 (needed by ans.fhir.fr.cds#2.0.1) is not at hand: ans.fhir.fr.annuaire#1.2.0-snapshot-2');
    expect(said).toMatch(/as-organization\|1.1.0, which is not held: .*as-organization\|1.2.0-snapshot-2 is used in its place/);
    const versions = await t.api.get('StructureDefinition?url=https://hl7.fr/ig/fhir/core/StructureDefinition/fr-core-patient');
    expect(versions.body.entry.map((e: any) => e.resource.version).sort()).toEqual(['2.1.0', '2.2.0']);
  });

  it('refuses a package whose dependency is nowhere, naming it', async () => {
    const tgz = readFileSync(new URL('./fixtures/needs-missing.tgz', import.meta.url));
    const res = await fetch(`${t.server.base}/$load-package`, { method: 'POST', body: tgz, headers: { 'content-type': 'application/gzip' } });
    expect(res.status).toBe(422);
    expect(texts((await res.json()) as Parameters<typeof texts>[0])[0]).toContain(
      'Missing dependency example.missing#1.0.0, needed by example.needs-missing#0.1.0',
    );
  });

  it('validates the FR Core examples against their profiles, and points at what broken variants break', async () => {
    const organization = example('Organization', 'hopitaltest-ej-350005179');
    const ok = await t.api.post('Organization/$validate', organization);
    expect(errors(ok.body)).toEqual([]);
    const patient = example('Patient', 'FRCorePatientExample');
    patient.identifier[0].type.coding[0].code = 'INS-NIA';
    delete patient.extension;
    const broken = await t.api.post('Patient/$validate', patient);
    expect(errors(broken.body).join('\n')).toMatch(/Patient.extension: 0 value\(s\) for the slice 'birthPlace'/);
  });

  it('refuses with 422, storing nothing, a resource that breaks the profile it claims', async () => {
    const practitioner = {
      resourceType: 'Practitioner',
      meta: { profile: ['https://fhir.maillage.fr/StructureDefinition/maillage-practitioner'] },
      identifier: [
        {
          system: 'https://rpps.esante.gouv.fr',
          type: { coding: [{ system: 'https://hl7.fr/ig/fhir/core/CodeSystem/fr-core-cs-v2-0203', code: 'IDNPS' }] },
          value: '10003461033',
        },
      ],
      name: [{ family: 'Martin' }],
    };
    const res = await t.api.post('Practitioner', practitioner);
    expect(res.status).toBe(422);
    expect(errors(res.body).join('\n')).toMatch(/Practitioner.identifier\[0\]: .*maillage-practitioner.*|Practitioner.identifier\[0\].type/);
    expect((await t.api.get('Practitioner')).body.total).toBe(0);
    const unknown = await t.api.post('Practitioner', {
      ...practitioner,
      meta: { profile: ['http://hl7.org/fhir/us/core/StructureDefinition/us-core-practitioner'] },
    });
    expect(unknown.status).toBe(201);
  });
});
