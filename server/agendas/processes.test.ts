import { describe, expect, it } from 'vitest';
import { client, useServerPair } from '../../tests/harness.js';
import { practitioner, schedule, slot } from './fixtures.js';

describe.runIf(process.env.TEST_DATABASE_URL)('booking through two server processes on one PostgreSQL', () => {
  const { servers } = useServerPair('loaded');

  it('of 20 concurrent bookings of one slot, split over both processes, exactly one succeeds', async () => {
    const [a, b] = servers.map((s) => client(`${s.url}/fhir`));
    await a.put('Patient/pat', { resourceType: 'Patient', id: 'pat', name: [{ family: 'Martin' }] });
    await a.put('Practitioner/dr', practitioner('dr', '0000000002'));
    await a.put('Schedule/agenda', schedule('agenda', 'Practitioner/dr'));
    const s = slot('raced', 'agenda', 120);
    expect((await b.put('Slot/raced', s)).status).toBe(201);
    const book = {
      resourceType: 'Parameters',
      parameter: [
        { name: 'slot', valueReference: { reference: 'Slot/raced' } },
        { name: 'patient', valueReference: { reference: 'Patient/pat' } },
      ],
    };
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 ? a : b).post('Appointment/$book', book)));
    expect(results.filter((r) => r.status === 201)).toHaveLength(1);
    const refused = results.filter((r) => r.status === 409);
    expect(refused).toHaveLength(19);
    expect(refused.every((r) => r.body.issue[0].diagnostics.includes('Slot/raced'))).toBe(true);
    expect((await a.get('Slot/raced')).body.status).toBe('busy');
    expect((await b.get('Appointment?slot=Slot/raced')).body.total).toBe(1);
  });
});
