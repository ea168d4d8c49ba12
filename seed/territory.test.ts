import type { Resource } from '@medplum/fhirtypes';
import { describe, expect, it } from 'vitest';
import { DATABASES, useServer } from '../tests/harness.js';
import { loadBaseDefinitions } from '../server/validation/registry.js';
import { validateBase } from '../server/validation/validate.js';
import { startOfDay } from './demo/index.js';
import { streamTerritory } from './stream.js';
import { generateTerritory, PATIENTS_PER_POLE } from './territory.js';

const today = startOfDay(new Date('2026-11-23T00:00:00Z'));
const all = (patients: number, seed: number): Resource[] => [...generateTerritory({ patients, seed, today })].flat();

describe('territory generator', () => {
  it('is deterministic: same seed, same data; another seed, other data', () => {
    const a = all(300, 11);
    expect(all(300, 11)).toEqual(a);
    const b = all(300, 12);
    expect(b.map((r) => r.id)).not.toEqual(a.map((r) => r.id));
  });

  it('generates valid resources whose references all resolve, with pôles in proportion', () => {
    loadBaseDefinitions();
    const patients = PATIENTS_PER_POLE + 150;
    const resources = all(patients, 3);
    const ids = new Set(resources.map((r) => `${r.resourceType}/${r.id}`));
    expect(ids.size).toBe(resources.length);
    const refs = JSON.stringify(resources).match(/"reference":"[A-Za-z]+\/[^"]+"/g) ?? [];
    expect(refs.map((r) => r.slice(13, -1)).filter((r) => !ids.has(r))).toEqual([]);
    const count = (type: string) => resources.filter((r) => r.resourceType === type).length;
    expect(count('Patient')).toBe(patients);
    expect(count('Organization')).toBe(2 * 13);
    expect(count('CareTeam')).toBe(patients);
    expect(count('Encounter')).toBeGreaterThan(patients);
    const invalid = resources.filter((r) => {
      try {
        validateBase(r);
        return false;
      } catch {
        return true;
      }
    });
    expect(invalid.map((r) => `${r.resourceType}/${r.id}`)).toEqual([]);
  });
});

describe.each(DATABASES)('territory streamed into %s', (kind) => {
  const t = useServer(kind);

  it('loads every generated resource through the write path', async () => {
    const expected = all(120, 5);
    let progress = 0;
    const result = await streamTerritory(t.server.db, t.server.url, t.server.logger, { patients: 120, seed: 5, today }, (n) => (progress = n));
    expect(result).toMatchObject({ resources: expected.length, patients: 120 });
    expect(progress).toBe(120);
    expect((await t.api.get('Patient?_count=0')).body.total).toBe(120);
    const carePlans = expected.filter((r) => r.resourceType === 'CarePlan').length;
    expect((await t.api.get('CarePlan?_count=0')).body.total).toBe(carePlans);
  });
});
