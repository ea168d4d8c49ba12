import type { Appointment, Bundle, Location, Parameters, Practitioner, Slot } from '@medplum/fhirtypes';
import { COORDINATION, SYSTEM } from '../../../server/fhir/vocabulary.js';
import { matches, ResourceIndex } from './bundle.js';
import { codeText, personName } from './format.js';

/** How soon the patient must be seen: the search window, and the Appointment's priority (lower is sooner). */
export const URGENCIES = {
  jour: { label: 'Dans la journée (24 h)', hours: 24, priority: 1 },
  '48h': { label: 'Sous 48 heures', hours: 48, priority: 5 },
} as const;
export type Urgency = keyof typeof URGENCIES;

export type Modality = '' | 'cabinet' | 'teleconsultation';

export interface SlotCriteria {
  now: Date;
  urgency: Urgency;
  /** A specialty code (SM54…), or '' for any. */
  specialty: string;
  modality: Modality;
}

/**
 * The one search of the README's "Finding a slot": the territory's free slots from now to the end
 * of the urgency's window, earliest first, with their Schedule and its actors (professional, cabinet).
 */
export function slotSearchQuery({ now, urgency, specialty, modality }: SlotCriteria): string {
  const params = new URLSearchParams();
  params.append('status', 'free');
  params.append('start', `ge${now.toISOString()}`);
  params.append('start', `le${new Date(now.getTime() + URGENCIES[urgency].hours * 3_600_000).toISOString()}`);
  if (specialty) params.append('specialty', specialty);
  if (modality === 'teleconsultation') params.append('service-type', `${SYSTEM.actCode}|VR`);
  if (modality === 'cabinet') params.append('service-type:not', `${SYSTEM.actCode}|VR`);
  params.append('_sort', 'start');
  params.append('_include', 'Slot:schedule');
  params.append('_include:iterate', 'Schedule:actor');
  params.append('_count', '30');
  return `Slot?${params}`;
}

export interface SlotRow {
  id: string;
  start: string;
  end?: string;
  professional: string;
  place: string;
  specialty: string;
  teleconsultation: boolean;
}

/** The rows of the slot search: who, where, when, how, earliest first. */
export function slotRows(bundle: Bundle | undefined): SlotRow[] {
  const index = new ResourceIndex(bundle);
  return matches(bundle, 'Slot')
    .map((slot: Slot): SlotRow => {
      const actors = index.get('Schedule', slot.schedule)?.actor ?? [];
      const practitioner = actors.map((a) => index.get('Practitioner', a)).find((p): p is Practitioner => !!p);
      const cabinet = actors.map((a) => index.get('Location', a)).find((l): l is Location => !!l);
      const city = cabinet?.address?.city;
      return {
        id: slot.id as string,
        start: slot.start,
        end: slot.end,
        professional: practitioner ? personName(practitioner.name) : '—',
        place: [cabinet?.name, city].filter(Boolean).join(', ') || '—',
        specialty: slot.specialty?.map(codeText).join(', ') ?? '',
        teleconsultation: !!slot.serviceType?.some((s) => s.coding?.some((c) => c.system === SYSTEM.actCode && c.code === 'VR')),
      };
    })
    .sort((a, b) => a.start.localeCompare(b.start));
}

/** The `$book` of a slot for a patient, with the request's reason and urgency. */
export function bookParameters(slotId: string, patientId: string, reason: string, urgency: Urgency): Parameters {
  return {
    resourceType: 'Parameters',
    parameter: [
      { name: 'slot', valueReference: { reference: `Slot/${slotId}` } },
      { name: 'patient', valueReference: { reference: `Patient/${patientId}` } },
      ...(reason.trim() ? [{ name: 'reason', valueCodeableConcept: { text: reason.trim() } }] : []),
      { name: 'comment', valueString: `Soins non programmés : ${URGENCIES[urgency].label.toLowerCase()}` },
      { name: 'priority', valueInteger: URGENCIES[urgency].priority },
      { name: 'serviceCategory', valueCodeableConcept: COORDINATION.soinsNonProgrammes },
    ],
  };
}

/**
 * A request no slot answers, recorded as such: an Appointment `proposed` of category soins non
 * programmés, without a slot or time, so that the CPTS's figures count it among the requests.
 */
export function unansweredRequest(patientId: string, reason: string, urgency: Urgency, now: Date): Appointment {
  return {
    resourceType: 'Appointment',
    status: 'proposed',
    serviceCategory: [COORDINATION.soinsNonProgrammes],
    created: now.toISOString(),
    priority: URGENCIES[urgency].priority,
    ...(reason.trim() ? { reasonCode: [{ text: reason.trim() }] } : {}),
    comment: `Soins non programmés : ${URGENCIES[urgency].label.toLowerCase()} — aucun créneau disponible`,
    participant: [{ actor: { reference: `Patient/${patientId}` }, status: 'needs-action' }],
  };
}
