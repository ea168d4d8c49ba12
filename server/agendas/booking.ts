import type { Appointment, Resource, Schedule, Slot } from '@medplum/fhirtypes';
import { parseLocalReference } from '../fhir/ids.js';
import { conflict, unprocessable } from '../fhir/outcome.js';
import type { Queryable } from '../store/db.js';
import { readCurrent, type StoredVersion } from '../store/resources.js';

/** The Schedule extension that lets one professional's appointments overlap (a group consultation, a walk-in list). */
export const OVERLAP_ALLOWED = 'https://fhir.maillage.fr/StructureDefinition/schedule-overlapping-appointments';

/** The statuses of an Appointment that hold its slots and its professionals' time. */
const HOLDING = new Set<Appointment['status']>(['pending', 'booked', 'arrived', 'fulfilled', 'checked-in']);

/** The professionals whose time an appointment takes: at most one appointment at a time each. */
const PROFESSIONALS = new Set(['Practitioner', 'PractitionerRole']);

/** The Slot versions booking itself writes: slotWritten lets them through. */
const ownWrites = new WeakSet<Resource>();

/** Writes the next version of a Slot in the caller's transaction (the write path's persist). */
export type SlotWriter = (previous: StoredVersion, slot: Slot) => Promise<unknown>;

const holds = (a: Resource | null | undefined): a is Appointment => a?.resourceType === 'Appointment' && HOLDING.has((a as Appointment).status);

/**
 * What writing an Appointment does to the agendas, in the transaction that writes it: the slots
 * it newly holds are locked and must be free (else 409 naming the slot), and turn busy; the slots
 * it no longer holds (cancelled, deleted, moved) turn free again; and its professionals must have
 * no other appointment at that time, unless one of its slots' Schedules allows overlaps. A slot
 * its publisher has not refreshed for `slotRefresh` ms is refused too (409), as it is not offered. Locking
 * the Slot row (FOR UPDATE) makes concurrent bookings of one slot, in any server process, wait
 * for each other: the second sees it busy.
 */
export async function appointmentWritten(
  tx: Queryable,
  { fhirBase, slotRefresh }: { fhirBase: string; slotRefresh?: number },
  previous: Resource | undefined,
  next: Resource | null,
  writeSlot: SlotWriter,
): Promise<void> {
  const before = holds(previous) ? slotIds(previous, fhirBase) : [];
  const after = holds(next) ? slotIds(next, fhirBase) : [];
  // Locks in one order (ids sorted), so that two bookings of the same slots never deadlock.
  const taken = after.filter((id) => !before.includes(id)).sort();
  const freed = before.filter((id) => !after.includes(id)).sort();
  const slots: Slot[] = [];
  for (const id of taken) {
    const row = await readCurrent(tx, 'Slot', id, true);
    if (!row?.content || row.deleted) throw unprocessable(`Slot/${id} does not exist`, ['Appointment.slot']);
    const slot = JSON.parse(row.content) as Slot;
    if (slot.status !== 'free') throw conflict(`Slot/${id} is not free (${slot.status}): it was booked or withdrawn`);
    if (Date.parse(slot.end) <= Date.now()) throw unprocessable(`Slot/${id} is past`, ['Appointment.slot']);
    // Not offered (stale.ts), so not booked: its publisher may have dropped it without saying.
    if (slotRefresh && row.lastUpdated.getTime() < Date.now() - slotRefresh) {
      throw conflict(`Slot/${id} is stale: its publisher has not refreshed it since ${row.lastUpdated.toISOString()}`);
    }
    await writeSlot(row, own({ ...slot, status: 'busy' }));
    slots.push(slot);
  }
  for (const id of freed) {
    const row = await readCurrent(tx, 'Slot', id, true);
    if (!row?.content || row.deleted) continue;
    const slot = JSON.parse(row.content) as Slot;
    if (slot.status === 'busy') await writeSlot(row, own({ ...slot, status: 'free' }));
  }
  if (holds(next) && (taken.length || !holds(previous) || changedTime(previous, next))) {
    await checkOverlaps(tx, fhirBase, next, slots.length ? slots : await currentSlots(tx, after));
  }
}

function slotIds(a: Appointment, fhirBase: string): string[] {
  const ids = (a.slot ?? []).flatMap((s) => {
    const ref = s.reference ? parseLocalReference(s.reference, fhirBase) : undefined;
    return ref?.type === 'Slot' ? [ref.id] : [];
  });
  return [...new Set(ids)];
}

const changedTime = (a: Resource | undefined, b: Appointment) =>
  (a as Appointment | undefined)?.start !== b.start || (a as Appointment | undefined)?.end !== b.end;

async function currentSlots(tx: Queryable, ids: string[]): Promise<Slot[]> {
  const rows = await Promise.all(ids.map((id) => readCurrent(tx, 'Slot', id)));
  return rows.flatMap((r) => (r?.content && !r.deleted ? [JSON.parse(r.content) as Slot] : []));
}

/** An appointment's time: its own start and end, else those of its slots. */
function timeOf(a: Appointment, slots: Slot[]): { start: number; end: number } | undefined {
  const start = a.start ? Date.parse(a.start) : Math.min(...slots.map((s) => Date.parse(s.start)));
  const end = a.end ? Date.parse(a.end) : Math.max(...slots.map((s) => Date.parse(s.end)));
  return Number.isFinite(start) && Number.isFinite(end) ? { start, end } : undefined;
}

/**
 * Refuses (409) an appointment that overlaps another held appointment of one of its professionals.
 * Each professional's row is locked first, so that two bookings of overlapping slots for one
 * professional are decided one after the other.
 */
async function checkOverlaps(tx: Queryable, fhirBase: string, next: Appointment, slots: Slot[]): Promise<void> {
  if (await overlapsAllowed(tx, fhirBase, slots)) return;
  const time = timeOf(next, slots);
  if (!time) return;
  const professionals = [
    ...new Set(
      (next.participant ?? []).flatMap((p) => {
        const ref = p.actor?.reference ? parseLocalReference(p.actor.reference, fhirBase) : undefined;
        return ref && PROFESSIONALS.has(ref.type) && p.status !== 'declined' ? [`${ref.type}/${ref.id}`] : [];
      }),
    ),
  ].sort();
  for (const key of professionals) {
    const [type, id] = key.split('/');
    await readCurrent(tx, type, id, true);
    // Appointments of this professional starting within a day before the end: none lasts longer.
    const rows = await tx.query<{ id: string; content: string }>(
      `SELECT r.id, r.content FROM sp_reference x JOIN resource r ON r.rid = x.rid
        WHERE x.type = 'Appointment' AND x.param = 'actor' AND x.target_type = $1 AND x.target_id = $2
          AND NOT r.deleted AND r.id <> $3
          AND EXISTS (SELECT 1 FROM sp_date d WHERE d.rid = x.rid AND d.type = 'Appointment' AND d.param = 'date'
                      AND d.low < $4 AND d.high > $5)`,
      [type, id, next.id ?? '', new Date(time.end), new Date(time.start - 86_400_000)],
    );
    for (const row of rows) {
      const other = JSON.parse(row.content) as Appointment;
      if (!holds(other)) continue;
      const t = timeOf(other, await currentSlots(tx, slotIds(other, fhirBase)));
      if (t && t.start < time.end && t.end > time.start) {
        throw conflict(`${key} already has Appointment/${row.id} at that time (${other.start} to ${other.end}); its Schedule does not allow overlaps`);
      }
    }
  }
}

async function overlapsAllowed(tx: Queryable, fhirBase: string, slots: Slot[]): Promise<boolean> {
  for (const slot of slots) {
    const ref = slot.schedule?.reference ? parseLocalReference(slot.schedule.reference, fhirBase) : undefined;
    if (ref?.type !== 'Schedule') continue;
    const row = await readCurrent(tx, 'Schedule', ref.id);
    const schedule = row?.content && !row.deleted ? (JSON.parse(row.content) as Schedule) : undefined;
    if (schedule?.extension?.some((e) => e.url === OVERLAP_ALLOWED && e.valueBoolean === true)) return true;
  }
  return false;
}

function own(slot: Slot): Slot {
  ownWrites.add(slot);
  return slot;
}

/**
 * A Slot written by anyone but booking (practice software republishing its agenda, withdrawing a
 * slot) must not free or delete a slot an Appointment holds: 409 naming the appointment, which
 * is to be cancelled first. `previous` was read FOR UPDATE by the write path, which serialises
 * this with the bookings of the slot.
 */
export async function slotWritten(tx: Queryable, previous: StoredVersion | undefined, next: Resource | null): Promise<void> {
  if (next && ownWrites.has(next)) return;
  if (!previous?.content || previous.deleted || (JSON.parse(previous.content) as Slot).status !== 'busy') return;
  if (next && (next as Slot).status === 'busy') return;
  const rows = await tx.query<{ id: string; content: string }>(
    `SELECT r.id, r.content FROM sp_reference x JOIN resource r ON r.rid = x.rid
      WHERE x.type = 'Appointment' AND x.param = 'slot' AND x.target_type = 'Slot' AND x.target_id = $1 AND NOT r.deleted`,
    [previous.id],
  );
  const holder = rows.find((r) => holds(JSON.parse(r.content) as Appointment));
  if (holder) throw conflict(`Slot/${previous.id} is held by Appointment/${holder.id}: cancel the appointment to free or withdraw the slot`);
}
