import { randomUUID } from 'node:crypto';
import type { Resource } from '@medplum/fhirtypes';
import type { WriteHook } from '../interactions/write-hooks.js';
import { appointmentWritten, slotWritten } from './booking.js';
import { bookingNotice } from './notify.js';

/**
 * What a write does to the agendas: a Slot an Appointment holds is not freed by its publisher; an
 * Appointment takes and frees its Slots in the same transaction (never two on one slot), and the
 * patient's GP is told of a request for soins non programmés booked (their Subscriptions hear it).
 */
export const agendaWriteHook: WriteHook = {
  async check(w, resource, stored) {
    if (w.target.type === 'Slot') await slotWritten(w.tx, w.previous, resource);
    if (w.target.type !== 'Appointment') return;
    const before = w.previous?.content && !w.previous.deleted ? (JSON.parse(w.previous.content) as Resource) : undefined;
    await appointmentWritten(w.tx, w.ctx, before, stored, (row, slot) => w.write({ type: 'Slot', id: row.id }, slot, 'PUT', row));
    const notice = await bookingNotice(w.tx, w.ctx.fhirBase, before, stored);
    if (notice) await w.write({ type: 'Communication', id: randomUUID() }, notice, 'POST');
  },
};
