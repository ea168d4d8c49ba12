import { beforeAll, describe, expect, it } from 'vitest';
import { DATABASES, useServer } from '../../tests/harness.js';
import { practitioner, schedule, slot } from './fixtures.js';

/** Slots' times by id, as created: a booked Appointment must state its start and end (R4 app-3). */
const times = new Map<string, { start: string; end: string }>();

const appointment = (slotId: string, extra: Record<string, unknown> = {}) => ({
  resourceType: 'Appointment',
  status: 'booked',
  slot: [{ reference: `Slot/${slotId}` }],
  start: times.get(slotId)?.start ?? '2030-01-01T10:00:00Z',
  end: times.get(slotId)?.end ?? '2030-01-01T10:15:00Z',
  participant: [
    { actor: { reference: 'Patient/pat' }, status: 'accepted' },
    { actor: { reference: 'Practitioner/dr' }, status: 'accepted' },
  ],
  ...extra,
});

/** Cabinet consultation, and the SAS's pointer to the CPTS's HealthcareService (an extension alone). */
const AMB = { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'AMB' }] };
const SERVICE_TYPE = [
  AMB,
  { extension: [{ url: 'http://hl7.org/fhir/5.0/StructureDefinition/extension-Slot.serviceType', valueReference: { reference: 'HealthcareService/snp' } }] },
];

const book = (slotId: string) => ({
  resourceType: 'Parameters',
  parameter: [
    { name: 'slot', valueReference: { reference: `Slot/${slotId}` } },
    { name: 'patient', valueReference: { reference: 'Patient/pat' } },
    { name: 'reason', valueString: 'fièvre depuis 3 jours' },
  ],
});

describe.each(DATABASES)('booking on %s', (kind) => {
  const t = useServer(kind);
  const put = async (s: ReturnType<typeof slot>) => {
    times.set(s.id as string, { start: s.start, end: s.end });
    expect((await t.api.put(`Slot/${s.id}`, s)).status).toBe(201);
  };

  beforeAll(async () => {
    await t.api.put('Patient/pat', { resourceType: 'Patient', id: 'pat', name: [{ family: 'Martin' }] });
    await t.api.put('Practitioner/dr', practitioner('dr', '0000000001'));
    await t.api.put('Schedule/agenda', schedule('agenda', 'Practitioner/dr'));
    for (const [i, id] of ['s1', 's2', 's3', 's4'].entries()) await put({ ...slot(id, 'agenda', 60 + i * 30), serviceType: SERVICE_TYPE });
    await put(slot('past', 'agenda', -60));
    await put(slot('g1', 'agenda', 24 * 60));
  });

  it('lets exactly one of 20 concurrent bookings of a slot through; the others get 409 naming the slot', async () => {
    const results = await Promise.all(Array.from({ length: 20 }, () => t.api.post('Appointment', appointment('s1'))));
    expect(results.filter((r) => r.status === 201)).toHaveLength(1);
    const refused = results.filter((r) => r.status === 409);
    expect(refused).toHaveLength(19);
    for (const r of refused) {
      expect(r.body.resourceType).toBe('OperationOutcome');
      expect(r.body.issue[0].diagnostics).toContain('Slot/s1');
    }
    expect((await t.api.get('Slot/s1')).body.status).toBe('busy');
    expect((await t.api.get('Appointment?slot=Slot/s1')).body.total).toBe(1);
  });

  it('$book takes a free slot once; cancelling frees it and it can be booked again', async () => {
    const first = await t.api.post('Appointment/$book', book('s2'));
    expect(first.status).toBe(201);
    expect(first.body).toMatchObject({ status: 'booked', slot: [{ reference: 'Slot/s2' }], reasonCode: [{ text: 'fièvre depuis 3 jours' }] });
    expect(first.body.serviceType).toEqual([AMB]);
    expect([first.body.start, first.body.end]).toEqual([times.get('s2')?.start, times.get('s2')?.end]);
    expect(first.body.participant.map((p: { actor: { reference: string } }) => p.actor.reference)).toEqual(['Patient/pat', 'Practitioner/dr']);
    const second = await t.api.post('Appointment/$book', book('s2'));
    expect(second.status).toBe(409);
    expect(second.body.issue[0].diagnostics).toContain('Slot/s2');
    const cancelled = await t.api.put(`Appointment/${first.body.id}`, { ...first.body, status: 'cancelled' });
    expect(cancelled.status).toBe(200);
    expect((await t.api.get('Slot/s2')).body.status).toBe('free');
    expect((await t.api.post('Appointment/$book', book('s2'))).status).toBe(201);
  });

  it('refuses to free or withdraw a slot an appointment holds, until it is cancelled', async () => {
    const made = await t.api.post('Appointment', appointment('s3'));
    expect(made.status).toBe(201);
    const held = (await t.api.get('Slot/s3')).body;
    const republished = await t.api.put('Slot/s3', { ...held, status: 'free' });
    expect(republished.status).toBe(409);
    expect(republished.body.issue[0].diagnostics).toContain(`Appointment/${made.body.id}`);
    expect((await t.api.delete('Slot/s3')).status).toBe(409);
    expect((await t.api.get('Slot/s3')).body.status).toBe('busy');
    expect((await t.api.put(`Appointment/${made.body.id}`, { ...made.body, status: 'cancelled' })).status).toBe(200);
    expect((await t.api.get('Slot/s3')).body.status).toBe('free');
  });

  it('deleting an appointment frees its slot; a past slot or a missing one is refused with 422', async () => {
    const made = await t.api.post('Appointment', appointment('s3'));
    expect(made.status).toBe(201);
    expect((await t.api.delete(`Appointment/${made.body.id}`)).status).toBeLessThan(300);
    expect((await t.api.get('Slot/s3')).body.status).toBe('free');
    expect((await t.api.post('Appointment', appointment('past'))).status).toBe(422);
    expect((await t.api.post('Appointment', appointment('nowhere'))).status).toBe(422);
    expect((await t.api.get('Slot/past')).body.status).toBe('free');
  });

  it('refuses overlapping appointments of one professional unless the Schedule allows them', async () => {
    // Another schedule of the same doctor, with a slot at the time of s4.
    const s4 = (await t.api.get('Slot/s4')).body;
    await t.api.put('Schedule/other', schedule('other', 'Practitioner/dr'));
    await put({ ...s4, id: 'o4', schedule: { reference: 'Schedule/other' } });
    expect((await t.api.post('Appointment', appointment('s4'))).status).toBe(201);
    const overlap = await t.api.post('Appointment', appointment('o4'));
    expect(overlap.status).toBe(409);
    expect(overlap.body.issue[0].diagnostics).toContain('Practitioner/dr');
    expect((await t.api.get('Slot/o4')).body.status).toBe('free');
    await t.api.put('Schedule/other', schedule('other', 'Practitioner/dr', true));
    expect((await t.api.post('Appointment', appointment('o4'))).status).toBe(201);
  });

  it('searches Appointments by the GAP parameters: created, description, priority, start', async () => {
    const made = await t.api.post('Appointment', appointment('g1', { created: '2026-01-02', description: 'Suivi diabète', priority: 3 }));
    expect(made.status).toBe(201);
    const found = async (q: string) => (await t.api.get(`Appointment?${q}`)).body.entry?.map((e: { resource: { id: string } }) => e.resource.id) ?? [];
    expect(await found('created=2026-01-02')).toEqual([made.body.id]);
    expect(await found('description=suivi')).toEqual([made.body.id]);
    expect(await found('priority=3')).toEqual([made.body.id]);
    const start = made.body.start;
    expect(await found(`start=ge${start}&start=le${start}&_id=${made.body.id}`)).toEqual([made.body.id]);
    expect(await found(`start=gt${start}&_id=${made.body.id}`)).toEqual([]);
  });
});
