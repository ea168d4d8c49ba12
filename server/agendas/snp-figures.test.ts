import type { Parameters } from '@medplum/fhirtypes';
import { beforeAll, describe, expect, it } from 'vitest';
import { DATABASES, useServer } from '../../tests/harness.js';
import { COORDINATION } from '../fhir/vocabulary.js';
import { practitioner, schedule, slot } from './fixtures.js';

const HOUR = 60;

describe.each(DATABASES)('the CPTS’s figures of soins non programmés on %s', (kind) => {
  const t = useServer(kind);
  const book = async (slotId: string, snp = true) => {
    const res = await t.api.post('Appointment/$book', {
      resourceType: 'Parameters',
      parameter: [
        { name: 'slot', valueReference: { reference: `Slot/${slotId}` } },
        { name: 'patient', valueReference: { reference: 'Patient/pat' } },
        ...(snp ? [{ name: 'serviceCategory', valueCodeableConcept: COORDINATION.soinsNonProgrammes }] : []),
      ],
    });
    expect(res.status).toBe(201);
    return res.body;
  };

  beforeAll(async () => {
    await t.api.put('Patient/pat', { resourceType: 'Patient', id: 'pat', name: [{ family: 'Martin' }] });
    await t.api.put('Practitioner/dr', practitioner('dr', '0000000004'));
    await t.api.put('Schedule/agenda', schedule('agenda', 'Practitioner/dr', true));
    // Slots 2 h, 30 h and 60 h ahead, and two more: one to be cancelled, one entered in error.
    for (const [id, hours] of [
      ['in2h', 2],
      ['in30h', 30],
      ['in60h', 60],
      ['cancelled', 3],
      ['error', 4],
      ['routine', 5],
    ] as const)
      expect((await t.api.put(`Slot/${id}`, slot(id, 'agenda', hours * HOUR))).status).toBe(201);
  });

  it('counts the requests, those answered, those seen within 48 h and the median delay, in $aci-indicators', async () => {
    for (const id of ['in2h', 'in30h', 'in60h']) await book(id);
    const cancelled = await book('cancelled');
    expect((await t.api.put(`Appointment/${cancelled.id}`, { ...cancelled, status: 'cancelled' })).status).toBe(200);
    const error = await book('error');
    expect((await t.api.put(`Appointment/${error.id}`, { ...error, status: 'entered-in-error' })).status).toBe(200);
    // A booking that is not a request for soins non programmés (a follow-up visit) is not counted.
    await book('routine', false);
    // A request no slot answered: recorded as a proposed Appointment, without a slot.
    const unanswered = await t.api.post('Appointment', {
      resourceType: 'Appointment',
      status: 'proposed',
      serviceCategory: [COORDINATION.soinsNonProgrammes],
      created: new Date().toISOString(),
      participant: [{ actor: { reference: 'Patient/pat' }, status: 'needs-action' }],
    });
    expect(unanswered.status).toBe(201);

    const reply = await t.api.get(`$aci-indicators?year=${new Date().getFullYear()}`);
    expect(reply.status).toBe(200);
    const snp = (reply.body as Parameters).parameter?.find((p) => p.name === 'snp');
    const part = (name: string) => snp?.part?.find((p) => p.name === name);
    // 5 requests (2 h, 30 h, 60 h, cancelled, unanswered); 3 answered; 2 within 48 h; median 30 h.
    expect(part('requests')?.valueInteger).toBe(5);
    expect(part('answered')?.valueInteger).toBe(3);
    expect(part('within48h')?.valueInteger).toBe(2);
    expect(part('shareWithin48h')?.valueDecimal).toBe(40);
    expect(part('medianDelayHours')?.valueDecimal).toBeCloseTo(30, 0);
    // Its list is the search of the requests, as the app may open it.
    const list = await t.api.get(part('list')?.valueString as string);
    expect(list.body.total).toBe(6);
  });

  it('gives no share nor delay for a year without requests', async () => {
    const reply = await t.api.get('$aci-indicators?year=2001');
    const snp = (reply.body as Parameters).parameter?.find((p) => p.name === 'snp');
    expect(snp?.part?.map((p) => p.name)).toEqual(['requests', 'answered', 'within48h', 'list']);
    expect(snp?.part?.[0].valueInteger).toBe(0);
  });
});
