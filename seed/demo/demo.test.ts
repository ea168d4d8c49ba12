import { describe, expect, it } from 'vitest';
import { DATABASES, useServer } from '../../tests/harness.js';
import { buildDemo, DEMO_PATIENTS, startOfDay } from './index.js';
import { ROLE } from './territory.js';

describe('demo pôle data', () => {
  it('is the same for the same day, and references only resources it contains', () => {
    const day = startOfDay(new Date('2026-11-23T10:00:00Z'));
    const a = buildDemo(day);
    expect(buildDemo(day)).toEqual(a);
    const ids = new Set(a.map((r) => `${r.resourceType}/${r.id}`));
    expect(ids.size).toBe(a.length);
    const refs = JSON.stringify(a).match(/"reference":"[A-Za-z]+\/[^"]+"/g) ?? [];
    expect(refs.map((r) => r.slice(13, -1)).filter((r) => !ids.has(r))).toEqual([]);
  });
});

describe.each(DATABASES)('demo pôle loaded at start on %s', (kind) => {
  const t = useServer(kind, { seed: 'demo' });
  const count = async (query: string) => (await t.api.get(`${query}${query.includes('?') ? '&' : '?'}_count=0`)).body.total as number;

  it('holds the territory and its patients, every one readable', async () => {
    expect(await count('Patient')).toBe(DEMO_PATIENTS);
    expect(await count('Organization')).toBeGreaterThanOrEqual(15);
    expect(await count('PractitionerRole')).toBeGreaterThanOrEqual(20);
    expect(await count('CareTeam')).toBe(DEMO_PATIENTS);
    const patient = await t.api.get('Patient/pat-0001');
    expect(patient.status).toBe(200);
    expect(patient.body.address[0].country).toBe('FR');
  });

  it('answers the coordinators’ questions with non-empty results', async () => {
    expect(await count('Encounter?class=IMP&status=in-progress')).toBeGreaterThan(0);
    expect(await count('Encounter?class=IMP&status=planned')).toBeGreaterThan(0);
    expect(await count(`CareTeam?participant=PractitionerRole/${ROLE.coordinatorMsp}&status=active`)).toBeGreaterThan(5);
    expect(await count(`Task?owner=PractitionerRole/${ROLE.coordinatorMsp}`)).toBeGreaterThan(0);
    expect(await count('Task?owner=Organization/dac-val-de-lys&status=requested')).toBeGreaterThan(0);
    expect(await count('CarePlan?category=https://fhir.maillage.fr/CodeSystem/coordination|ppcs&status=active')).toBeGreaterThan(10);
    expect(await count('Appointment?service-type=https://fhir.maillage.fr/CodeSystem/coordination|concertation-pluripro')).toBe(4);
    expect(await count('Consent?status=active')).toBeGreaterThan(10);
    // Soins non programmés: free GP slots in the next 48 hours, in the canton, by the chain the view uses.
    const until = new Date(Date.now() + 48 * 3_600_000).toISOString();
    expect(await count(`Slot?status=free&start=le${until}&schedule.actor:Location.address-postalcode=357`)).toBeGreaterThan(10);
    expect(await count('Slot?status=busy')).toBeGreaterThan(10);
    expect(await count('Practitioner?identifier=https://rpps.esante.gouv.fr|')).toBeGreaterThan(15);
    expect(await count('Patient?identifier=urn:oid:1.2.250.1.213.1.4.11|')).toBeGreaterThan(100);
  });

  it('is not loaded again into a database that holds data', async () => {
    const { seedDemoIfEmpty } = await import('../load.js');
    expect(await seedDemoIfEmpty(t.server.db, t.server.url, t.server.logger)).toBe(0);
    expect((await t.api.get('Patient/pat-0001')).body.meta.versionId).toBe('1');
  });
});
