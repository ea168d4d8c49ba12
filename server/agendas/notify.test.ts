import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DATABASES, useServer } from '../../tests/harness.js';
import { startReceiver } from '../../tests/receiver.js';
import { COORDINATION, TEAM_ROLE } from '../fhir/vocabulary.js';
import { practitioner, schedule, slot } from './fixtures.js';

const hook = (endpoint: string, criteria: string) => ({
  resourceType: 'Subscription',
  status: 'requested',
  reason: 'agenda',
  criteria,
  channel: { type: 'rest-hook', endpoint, payload: 'application/fhir+json' },
});

const book = (slotId: string, snp: boolean) => ({
  resourceType: 'Parameters',
  parameter: [
    { name: 'slot', valueReference: { reference: `Slot/${slotId}` } },
    { name: 'patient', valueReference: { reference: 'Patient/pat' } },
    { name: 'reason', valueString: 'fièvre' },
    ...(snp ? [{ name: 'serviceCategory', valueCodeableConcept: COORDINATION.soinsNonProgrammes }] : []),
  ],
});

describe.each(DATABASES)('notices of a booking on %s', (kind) => {
  const t = useServer(kind);
  let receiver: Awaited<ReturnType<typeof startReceiver>>;

  beforeAll(async () => {
    receiver = await startReceiver();
    await t.api.put('Patient/pat', { resourceType: 'Patient', id: 'pat', name: [{ family: 'Martin' }] });
    await t.api.put('Practitioner/gp', practitioner('gp', '0000000005'));
    await t.api.put('PractitionerRole/gp-role', { resourceType: 'PractitionerRole', id: 'gp-role', practitioner: { reference: 'Practitioner/gp' } });
    // The patient's cercle de soins: their médecin traitant.
    const team = {
      resourceType: 'CareTeam',
      id: 'cds-pat',
      status: 'active',
      subject: { reference: 'Patient/pat' },
      participant: [{ role: [TEAM_ROLE.medecinTraitant], member: { reference: 'PractitionerRole/gp-role' } }],
    };
    expect((await t.api.put('CareTeam/cds-pat', team)).status).toBe(201);
    await t.api.put('Practitioner/dr', practitioner('dr', '0000000006'));
    await t.api.put('Schedule/agenda', schedule('agenda', 'Practitioner/dr'));
    for (const [i, id] of ['snp', 'routine'].entries()) expect((await t.api.put(`Slot/${id}`, slot(id, 'agenda', 120 + i * 30))).status).toBe(201);
    for (const [path, criteria] of [
      ['gp', 'Communication?recipient=PractitionerRole/gp-role'],
      ['dr', 'Appointment?actor=Practitioner/dr&status=booked'],
    ]) {
      const sub = await t.api.post('Subscription', hook(`${receiver.url}/${path}`, criteria));
      expect(sub.body.status).toBe('active');
    }
  });
  afterAll(() => receiver?.close());

  it('tells the GP by a Communication about the booked Appointment, and the booked professional by the Appointment', async () => {
    const booked = await t.api.post('Appointment/$book', book('snp', true));
    expect(booked.status).toBe(201);
    const got = await receiver.waitFor(2);
    const gp = got.find((r) => r.url.startsWith('/gp/'));
    const dr = got.find((r) => r.url.startsWith('/dr/'));
    expect(dr?.url).toBe(`/dr/Appointment/${booked.body.id}`);
    expect(gp?.url).toMatch(/^\/gp\/Communication\//);
    const notice = JSON.parse(gp?.body ?? '{}');
    expect(notice).toMatchObject({
      status: 'completed',
      subject: { reference: 'Patient/pat' },
      about: [{ reference: `Appointment/${booked.body.id}` }],
      recipient: [{ reference: 'PractitionerRole/gp-role' }],
    });
    expect(notice.payload[0].contentString).toContain('fièvre');
    const start = new Date(booked.body.start).toLocaleString('fr-FR', { timeZone: 'Europe/Paris', timeStyle: 'short' });
    expect(notice.payload[0].contentString).toContain(start);
    expect((await t.api.get('Communication?recipient=PractitionerRole/gp-role')).body.total).toBe(1);
  });

  it('does not tell the GP of a booking that is not for soins non programmés', async () => {
    const before = receiver.received.length;
    const booked = await t.api.post('Appointment/$book', book('routine', false));
    expect(booked.status).toBe(201);
    const got = (await receiver.waitFor(before + 1)).slice(before);
    expect(got.map((r) => r.url)).toEqual([`/dr/Appointment/${booked.body.id}`]);
    await new Promise((r) => setTimeout(r, 1500));
    expect(receiver.received.slice(before).some((r) => r.url.startsWith('/gp/'))).toBe(false);
    // Still the one notice of the first booking.
    expect((await t.api.get('Communication?recipient=PractitionerRole/gp-role')).body.total).toBe(1);
  });
});
