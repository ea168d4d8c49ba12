import type { Schedule, Slot } from '@medplum/fhirtypes';
import { OVERLAP_ALLOWED } from './booking.js';

/** Test and bench agendas: a professional's Schedule and its Slots, by PUT with fixed ids. */

export const IDNPS = 'urn:oid:1.2.250.1.71.4.2.1';

export const practitioner = (id: string, rpps: string) => ({
  resourceType: 'Practitioner',
  id,
  identifier: [{ system: IDNPS, value: `8${rpps}` }],
  name: [{ family: `Docteur-${id}` }],
});

export const schedule = (id: string, actor: string, overlaps = false): Schedule => ({
  resourceType: 'Schedule',
  id,
  active: true,
  actor: [{ reference: actor }],
  ...(overlaps ? { extension: [{ url: OVERLAP_ALLOWED, valueBoolean: true }] } : {}),
});

/** A free slot of `minutes` starting `fromNow` minutes from now. */
export const slot = (id: string, scheduleId: string, fromNow: number, minutes = 15): Slot => ({
  resourceType: 'Slot',
  id,
  schedule: { reference: `Schedule/${scheduleId}` },
  status: 'free',
  start: new Date(Date.now() + fromNow * 60_000).toISOString().replace(/\.\d+Z$/, 'Z'),
  end: new Date(Date.now() + (fromNow + minutes) * 60_000).toISOString().replace(/\.\d+Z$/, 'Z'),
});
