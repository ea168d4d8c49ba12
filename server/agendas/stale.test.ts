import type { Resource } from '@medplum/fhirtypes';
import { beforeAll, describe, expect, it } from 'vitest';
import { DATABASES, useServer } from '../../tests/harness.js';
import { practitioner, schedule, slot } from './fixtures.js';

/** Seconds after which a slot not written again is stale, here (SLOT_REFRESH_HOURS in hours). */
const REFRESH = 3;

const free = 'Slot?status=free&schedule=Schedule/agenda&_sort=start';
const ids = (bundle: { entry?: { resource: Resource }[] }) => (bundle.entry ?? []).map((e) => e.resource.id);

describe.each(DATABASES)('stale and withdrawn slots on %s', (kind) => {
  const t = useServer(kind, { slotRefreshHours: REFRESH / 3600 });
  const put = async (s: ReturnType<typeof slot>) => expect((await t.api.put(`Slot/${s.id}`, s)).status).toBeLessThan(300);

  beforeAll(async () => {
    await t.api.put('Patient/pat', { resourceType: 'Patient', id: 'pat', name: [{ family: 'Martin' }] });
    await t.api.put('Practitioner/dr', practitioner('dr', '0000000003'));
    await t.api.put('Schedule/agenda', schedule('agenda', 'Practitioner/dr'));
  });

  it('stops offering a slot its publisher has not refreshed, and refuses to book it, until it is published again', async () => {
    for (const [i, id] of ['kept', 'dropped', 'republished'].entries()) await put(slot(id, 'agenda', 60 + i * 15));
    expect(ids((await t.api.get(free)).body)).toEqual(['kept', 'dropped', 'republished']);
    await new Promise((r) => setTimeout(r, (REFRESH - 1) * 1000));
    // The publisher's next round: a transaction of PUTs of the slots it still has, unchanged.
    const still = await Promise.all(['kept', 'republished'].map(async (id) => (await t.api.get(`Slot/${id}`)).body as Resource));
    const round = await t.api.post(t.server.base, {
      resourceType: 'Bundle',
      type: 'transaction',
      entry: still.map((s) => ({ resource: s, request: { method: 'PUT', url: `Slot/${s.id}` } })),
    });
    expect(round.status).toBe(200);
    await new Promise((r) => setTimeout(r, 1500));
    const found = await t.api.get(free);
    expect(ids(found.body)).toEqual(['kept', 'republished']);
    expect(found.body.link[0].url).toContain('_lastUpdated=ge');
    // The practice itself still sees it, and booking it is refused, naming the slot.
    expect(ids((await t.api.get('Slot?schedule=Schedule/agenda&_id=dropped')).body)).toEqual(['dropped']);
    const booking = await t.api.post('Appointment/$book', {
      resourceType: 'Parameters',
      parameter: [
        { name: 'slot', valueReference: { reference: 'Slot/dropped' } },
        { name: 'patient', valueReference: { reference: 'Patient/pat' } },
      ],
    });
    expect(booking.status).toBe(409);
    expect(booking.body.issue[0].diagnostics).toContain('Slot/dropped is stale');
    expect((await t.api.get('Slot/dropped')).body.status).toBe('free');
    // Published again: offered again.
    const dropped = (await t.api.get('Slot/dropped')).body;
    expect((await t.api.put('Slot/dropped', dropped)).status).toBe(200);
    expect(ids((await t.api.get(free)).body)).toEqual(['kept', 'dropped', 'republished']);
  });

  it('stops offering a slot withdrawn: deleted, busy-unavailable or entered in error', async () => {
    for (const [i, id] of ['w-deleted', 'w-unavailable', 'w-error', 'w-kept'].entries()) await put(slot(id, 'agenda', 24 * 60 + i * 15));
    const window = `${free}&start=ge${new Date(Date.now() + 23 * 3_600_000).toISOString()}`;
    expect(ids((await t.api.get(window)).body)).toEqual(['w-deleted', 'w-unavailable', 'w-error', 'w-kept']);
    expect((await t.api.delete('Slot/w-deleted')).status).toBeLessThan(300);
    for (const [id, status] of [
      ['w-unavailable', 'busy-unavailable'],
      ['w-error', 'entered-in-error'],
    ]) {
      const s = (await t.api.get(`Slot/${id}`)).body;
      expect((await t.api.put(`Slot/${id}`, { ...s, status })).status).toBe(200);
    }
    expect(ids((await t.api.get(window)).body)).toEqual(['w-kept']);
    const booking = await t.api.post('Appointment/$book', {
      resourceType: 'Parameters',
      parameter: [
        { name: 'slot', valueReference: { reference: 'Slot/w-unavailable' } },
        { name: 'patient', valueReference: { reference: 'Patient/pat' } },
      ],
    });
    expect(booking.status).toBe(409);
    expect(booking.body.issue[0].diagnostics).toContain('Slot/w-unavailable');
  });
});
