import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import type { Resource, StructureDefinition } from '@medplum/fhirtypes';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { DATABASES, FRENCH, freePort, pgliteFrom, testConfig, useServer } from '../../tests/harness.js';
import { startServer } from '../main.js';
import { readPackage } from './files.js';

const SHARED = process.env.FHIR_PACKAGES ?? new URL('../../../shared/fhir', import.meta.url).pathname;
const CORE = 'https://hl7.fr/ig/fhir/core';
/** Two short names where FR Core's Organization allows one (extension:shortName 0..1); R4 allows any. */
const twoShortNames = {
  resourceType: 'Organization',
  name: 'Deux noms courts',
  extension: ['CH A', 'CH B'].map((valueString) => ({ url: `${CORE}/StructureDefinition/fr-core-organization-short-name`, valueString })),
};
const PACKAGES = ['hl7.fhir.fr.core#2.2.0', 'ans.fhir.fr.annuaire#1.2.0-snapshot-2', 'ans.fhir.fr.cds#2.0.1'];

/** The published examples that are themselves wrong, what Maillage says of them and why it is right. */
const WRONG: Record<string, { errors: string[]; why: string }> = {
  'Patient/FRCorePatientExample': {
    errors: ["Patient.identifier[0].value: The key of '123456789012244' is wrong (urn:oid:1.2.250.1.213.1.4.8)"],
    why: 'its INS-NIR 1234567890122 carries the key 44; 97 - (1234567890122 mod 97) is 12: the NIR does not check',
  },
  'Organization/hopitaltest-eg-4-members': {
    errors: ["Organization.identifier[1].value: '26350007609999' is not a SIREN number: 9 digits (https://sirene.fr)"],
    why: 'an identifier typed SIREN whose value has 14 digits (a SIRET)',
  },
  'Patient/cds-patient-example': {
    errors: ["Patient.identifier[0].value: The key of '123456789012244' is wrong (urn:oid:1.2.250.1.213.1.4.8)"],
    why: "FR Core's Patient example copied, with its NIR that does not check",
  },
  // R4 (and HL7's validator: "@value cannot be empty") refuses an empty string ($validate says so, a write is a 400).
  'CareTeam/cds-careteam-example': {
    errors: [
      'CareTeam.name.extension[0].extension[1].valueString: CareTeam.name.extension[0].extension[1].valueString: An empty string is no value: leave the element out',
    ],
    why: 'an empty valueString in the name translation extension',
  },
  'Organization/cds-organization-example': {
    errors: [
      'Organization.name.extension[0].extension[1].valueString: Organization.name.extension[0].extension[1].valueString: An empty string is no value: leave the element out',
      'Organization.alias[0].extension[0].extension[1].valueString: Organization.alias[0].extension[0].extension[1].valueString: An empty string is no value: leave the element out',
    ],
    why: 'empty valueStrings in the name and alias translation extensions',
  },
  'Bundle/cds-bundle-transaction-creation-example': {
    errors: [
      'Bundle.entry[0].resource.name.extension[0].extension[1].valueString: Bundle.entry[0].resource.name.extension[0].extension[1].valueString: An empty string is no value: leave the element out',
      'Bundle.entry[1].resource.name.extension[0].extension[1].valueString: Bundle.entry[1].resource.name.extension[0].extension[1].valueString: An empty string is no value: leave the element out',
      'Bundle.entry[1].resource.alias[0].extension[0].extension[1].valueString: Bundle.entry[1].resource.alias[0].extension[0].extension[1].valueString: An empty string is no value: leave the element out',
      "Bundle.entry[2].resource.identifier[0].value: The key of '123456789012244' is wrong (urn:oid:1.2.250.1.213.1.4.8)",
    ],
    why: 'the CareTeam and Organization examples above, with their empty valueStrings, and the Patient example with its NIR',
  },
};

/** Examples for which no element of their profile can be dropped to break them (the profile requires nothing the base does not). */
const UNBREAKABLE: Record<string, string[]> = {
  // This simple breaker finds nothing to drop in these (a gap of the test: their profiles constrain slices deeper down).
  'hl7.fhir.fr.core#2.2.0': [
    'Appointment/FRCoreAppointmentExample',
    'HealthcareService/svc-cardiologie-1',
    'Location/hopitaltest-endocrino-ch04-litF',
    'Location/hopitaltest-endocrino-ch04',
    'Location/hopitaltest-salle-examen-01',
    'Organization/FRCoreOrganizationExample',
    ...['dept-11003-endocrino', 'eg-4-members', 'ej-350005179', 'pole-1150-med-spe', 'service-11006-endocrino-diabo', 'service-11007-dietetique'].map(
      (id) => `Organization/hopitaltest-${id}`,
    ),
    ...['uac-4420-uac-01', 'uac-4420-uac-02', 'uf-4420-dialyse', 'uf-4701-endocrino-diab', 'uf-4705-nutrition'].map((id) => `Organization/hopitaltest-${id}`),
    'Practitioner/FRCorePractitionerExample',
    'PractitionerRole/FRCorePractitionerRoleExample',
    'Schedule/FRCoreScheduleExample',
    'Slot/FRCoreSlotExample',
  ],
  'ans.fhir.fr.cds#2.0.1': ['Organization/cds-organization-example'],
  // Their profiles (FR Core's Organization, Practitioner, PractitionerRole; the Annuaire's Organization)
  // require no first-level element or slice beyond R4's that these examples have.
  'ans.fhir.fr.annuaire#1.2.0-snapshot-2': [
    ...['158480', '481677', '548812'].flatMap((id) => [`Organization/${id}`, `Organization/${id}DP`]),
    'Organization/example-organization-fictive',
    'Organization/example-organization-nancy',
    ...['334081', '3719500'].flatMap((id) => [`Practitioner/${id}`, `Practitioner/${id}DP`]),
    ...['1578230', '1738459', '5015602'].flatMap((id) => [`PractitionerRole/${id}`, `PractitionerRole/${id}DP`]),
  ],
};

/**
 * A copy of the example that its profile refuses: without an element the profile requires (min 1
 * where R4 has 0, or a required slice of it) that the example has, else with one the profile
 * forbids (max 0).
 */
function breakFor(sd: StructureDefinition, example: Resource): { copy: Resource; removed: string } | undefined {
  const copy = structuredClone(example) as unknown as Record<string, unknown>;
  const children = (sd.snapshot?.element ?? []).filter((e) => e.path.startsWith(`${sd.type}.`) && !e.path.slice(sd.type.length + 1).includes('.'));
  for (const e of children) {
    const name = e.path.slice(sd.type.length + 1);
    const required = e.sliceName ? (e.min ?? 0) >= 1 : (e.min ?? 0) >= 1 && (e.base?.min ?? 0) === 0;
    if (!required) continue;
    const present = (name.endsWith('[x]') ? Object.keys(copy).filter((k) => k.startsWith(name.slice(0, -3))) : [name]).filter((k) => k in copy);
    if (!present.length) continue;
    for (const k of present) delete copy[k];
    return { copy: copy as unknown as Resource, removed: present.join(', ') };
  }
  const forbidden = children.find((e) => e.max === '0' && e.base?.max !== '0' && e.type?.[0]?.code === 'Attachment');
  if (forbidden) {
    copy[forbidden.path.slice(sd.type.length + 1)] = [{ contentType: 'image/png', url: 'https://example.org/photo.png' }];
    return { copy: copy as unknown as Resource, removed: `(added) ${forbidden.path}` };
  }
  return undefined;
}

const errors = (outcome: { issue: { severity: string; expression?: string[]; details?: { text?: string }; diagnostics?: string }[] }) =>
  outcome.issue.filter((i) => i.severity === 'error' || i.severity === 'fatal').map((i) => `${i.expression?.[0]}: ${i.details?.text ?? i.diagnostics}`);

describe.each(DATABASES)('FHIR_IGS: the French packages a first start installs, on %s', (kind) => {
  const t = useServer(kind, FRENCH);

  it('lists their profiles in /metadata and finds them by canonical URL', async () => {
    const metadata = await t.api.get('metadata');
    const profiles = (type: string) => metadata.body.rest[0].resource.find((r: { type: string }) => r.type === type).supportedProfile as string[];
    expect(profiles('Patient')).toContain(`${CORE}/StructureDefinition/fr-core-patient|2.2.0`);
    expect(profiles('Organization')).toContain('https://interop.esante.gouv.fr/ig/fhir/annuaire/StructureDefinition/as-organization|1.2.0-snapshot-2');
    expect(profiles('CareTeam').some((p) => p.startsWith('https://interop.esante.gouv.fr/ig/fhir/cds/StructureDefinition/'))).toBe(true);
    const found = await t.api.get(`StructureDefinition?url=${CORE}/StructureDefinition/fr-core-practitioner&version=2.2.0`);
    expect(found.body.entry).toHaveLength(1);
    expect(found.body.entry[0].resource.snapshot.element.length).toBeGreaterThan(20);
  });

  it("expands FR Core's value sets", async () => {
    const res = await t.api.get(`ValueSet/$expand?url=${CORE}/ValueSet/fr-core-vs-practitioner-specialty`);
    expect(res.status).toBe(200);
    expect(res.body.expansion.contains.length).toBeGreaterThan(50);
    expect(res.body.expansion.contains.some((c: { code: string }) => c.code === 'SM26')).toBe(true);
  });

  it("validates FR Core's Patient, Practitioner and Organization examples against their profiles", async () => {
    const core = readPackage(`${SHARED}/hl7.fhir.fr.core#2.2.0`);
    for (const type of ['Patient', 'Practitioner', 'Organization']) {
      const examples = core.examples.filter((e) => e.resourceType === type);
      expect(examples.length).toBeGreaterThan(0);
      for (const example of examples) {
        const res = await t.api.post(`${type}/$validate`, example);
        expect(res.status, `${type}/${example.id}`).toBe(200);
        expect(errors(res.body), `${type}/${example.id}`).toEqual(WRONG[`${type}/${example.id}`]?.errors ?? []);
      }
    }
  });

  it('validates a write against a held profile its meta.profile names, without enforcement: 422 when it breaks it', async () => {
    const profile = 'https://hl7.fr/ig/fhir/core/StructureDefinition/fr-core-organization|2.2.0';
    const res = await t.api.post('Organization', { ...twoShortNames, meta: { profile: [profile] } });
    expect(res.status).toBe(422);
    expect(errors(res.body).join('\n')).toMatch(/shortName/);
    expect((await t.api.post('Organization', twoShortNames)).status).toBe(201);
  });

  it.each(PACKAGES)('holds every example of %s valid against its profile, and a copy broken for that profile invalid', async (folder) => {
    const verdicts: Record<string, string[]> = {};
    const unbroken: string[] = [];
    for (const example of readPackage(`${SHARED}/${folder}`).examples) {
      const key = `${example.resourceType}/${example.id}`;
      const res = await t.api.post(`${example.resourceType}/$validate`, example);
      verdicts[key] = [...(res.status === 200 ? [] : [`HTTP ${res.status}`]), ...errors(res.body)];
      const profile = example.meta?.profile?.[0];
      if (!profile) continue;
      const [url, version] = profile.split('|');
      const sd = (await t.api.get(`StructureDefinition?url=${url}${version ? `&version=${version}` : ''}`)).body.entry?.[0]?.resource as
        | StructureDefinition
        | undefined;
      const broken = sd && breakFor(sd, example);
      if (!broken) {
        unbroken.push(key);
        continue;
      }
      const bad = await t.api.post(`${example.resourceType}/$validate`, broken.copy);
      expect(errors(bad.body).length, `${key} without ${broken.removed}`).toBeGreaterThan(0);
    }
    const expected = Object.fromEntries(Object.keys(verdicts).map((k) => [k, WRONG[k]?.errors ?? []]));
    expect(verdicts).toEqual(expected);
    expect(unbroken).toEqual(UNBREAKABLE[folder] ?? []);
  });
});

describe('FHIR_IGS with nothing at hand', () => {
  it('starts, saying which package it could not install and how to', async () => {
    const lines: { level: number; msg: string; package?: string }[] = [];
    const logger = pino(
      { level: 'info' },
      new Writable({
        write(chunk, _enc, done) {
          lines.push(JSON.parse(String(chunk)));
          done();
        },
      }),
    );
    const env = { FHIR_PACKAGES: process.env.FHIR_PACKAGES, FHIR_PACKAGE_REGISTRY: process.env.FHIR_PACKAGE_REGISTRY };
    process.env.FHIR_PACKAGES = mkdtempSync(join(tmpdir(), 'no-packages-'));
    process.env.FHIR_PACKAGE_REGISTRY = 'off';
    const port = await freePort();
    try {
      const server = await startServer(testConfig(port, { fhirIgs: FRENCH.fhirIgs }), logger, { database: await pgliteFrom('loaded') });
      try {
        const res = await fetch(`${server.url}/fhir/StructureDefinition?url=${CORE}/StructureDefinition/fr-core-patient`);
        expect(((await res.json()) as { total: number }).total).toBe(0);
      } finally {
        await server.close();
      }
    } finally {
      for (const [k, v] of Object.entries(env))
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
    }
    const said = lines.filter((l) => l.level === 40).map((l) => l.msg);
    for (const spec of ['hl7.fhir.fr.core#2.2.0', 'ans.fhir.fr.annuaire#1.2.0', 'ans.fhir.fr.cds#2.0.1']) {
      const line = said.find((m) => m.startsWith(`FHIR package ${spec} (FHIR_IGS) is not installed`));
      expect(line, spec).toBeDefined();
      expect(line).toMatch(/put it in FHIR_PACKAGES .*maillage load-package/);
    }
  });
});
