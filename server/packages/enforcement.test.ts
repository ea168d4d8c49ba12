import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DATABASES, FRENCH, useServer } from '../../tests/harness.js';
import { readPackage } from './files.js';

const SHARED = process.env.FHIR_PACKAGES ?? new URL('../../../shared/fhir', import.meta.url).pathname;
const FRCORE = new URL('../../profiles/enforcement.frcore.json', import.meta.url).pathname;
const core = readPackage(`${SHARED}/hl7.fhir.fr.core#2.2.0`);
const example = (type: string, id: string) => structuredClone(core.examples.find((e) => e.resourceType === type && e.id === id)) as any;
/** Two short names where FR Core's Organization allows one (extension:shortName 0..1); R4 allows any. */
const twoShortNames = {
  resourceType: 'Organization',
  name: 'Deux noms courts',
  extension: ['CH A', 'CH B'].map((valueString) => ({ url: 'https://hl7.fr/ig/fhir/core/StructureDefinition/fr-core-organization-short-name', valueString })),
};
const errors = (outcome: { issue: { severity: string; expression?: string[]; details?: { text?: string }; diagnostics?: string }[] }) =>
  outcome.issue.filter((i) => i.severity === 'error').map((i) => `${i.expression?.[0]}: ${i.details?.text ?? i.diagnostics}`);

/** The enforcement file a server reads at start (PROFILE_ENFORCEMENT), set around its start only. */
function withEnforcement(file: string | undefined) {
  const before = process.env.PROFILE_ENFORCEMENT;
  beforeAll(() => {
    if (file) process.env.PROFILE_ENFORCEMENT = file;
    else delete process.env.PROFILE_ENFORCEMENT;
  });
  afterAll(() => {
    if (before === undefined) delete process.env.PROFILE_ENFORCEMENT;
    else process.env.PROFILE_ENFORCEMENT = before;
  });
}

describe.each(DATABASES)('PROFILE_ENFORCEMENT=profiles/enforcement.frcore.json on %s', (kind) => {
  withEnforcement(FRCORE);
  const t = useServer(kind, FRENCH);

  it('names only FR Core profiles the server holds', () => {
    const required = JSON.parse(readFileSync(FRCORE, 'utf8')).required as Record<string, string[]>;
    const held = new Set(core.resources.map((r) => `${(r as { url?: string }).url}|${(r as { version?: string }).version}`));
    for (const profiles of Object.values(required)) for (const p of profiles) expect(held, p).toContain(p);
  });

  it('stores what conforms to FR Core, and refuses with 422, storing nothing, what does not', async () => {
    const organization = example('Organization', 'hopitaltest-ej-350005179');
    delete organization.id;
    expect((await t.api.post('Organization', organization)).status).toBe(201);
    const res = await t.api.post('Organization', twoShortNames);
    expect(res.status).toBe(422);
    expect(errors(res.body).join('\n')).toMatch(/shortName/);
    expect((await t.api.get('Organization?name=Deux')).body.total).toBe(0);
  });
});
