import type { Appointment, AppointmentParticipant, Parameters, Schedule, Slot } from '@medplum/fhirtypes';
import { parseLocalReference } from '../fhir/ids.js';
import { badRequest, unprocessable } from '../fhir/outcome.js';
import { reader, type Context, type FhirRequest, type FhirResponse } from '../interactions/context.js';
import { operationInput } from '../operations/parameters.js';
import type { Dispatch } from '../route.js';
import { readCurrent } from '../store/resources.js';

/**
 * POST [base]/Appointment/$book: books a free Slot for a patient in one call, as a régulateur
 * does from a list of free slots. Parameters: `slot` and `patient` (valueReference, or a
 * `Type/id` string), optional `reason` (valueCodeableConcept or text), `comment`, `priority`,
 * `serviceCategory` (valueCodeableConcept: soins-non-programmes makes it a request the CPTS's
 * figures count, snp-figures.ts).
 * It builds the Appointment (booked, the slot's times and service type, the patient and the
 * Schedule's actors as participants) and creates it through the ordinary create, which takes the
 * slot in its transaction (booking.ts): so `$book` and `POST Appointment` with `slot` behave the
 * same, 201 with the Appointment or 409 naming a slot already taken.
 */
export async function bookOperation(ctx: Context, req: FhirRequest, dispatch: Dispatch): Promise<FhirResponse> {
  const input = operationInput(req);
  const body = (req.body as Parameters | undefined)?.resourceType === 'Parameters' ? ((req.body as Parameters).parameter ?? []) : [];
  const ref = (name: string) => body.find((p) => p.name === name)?.valueReference?.reference ?? input.string(name);
  const slotRef = ref('slot');
  const patientRef = ref('patient');
  if (!slotRef || !patientRef) throw badRequest('$book needs a slot and a patient');
  const slotId = parseLocalReference(slotRef, ctx.fhirBase);
  const patient = parseLocalReference(patientRef, ctx.fhirBase);
  if (slotId?.type !== 'Slot') throw badRequest(`slot must reference a Slot of this server: ${slotRef}`);
  if (patient?.type !== 'Patient') throw badRequest(`patient must reference a Patient of this server: ${patientRef}`);
  const q = reader(ctx);
  const slotRow = await readCurrent(q, 'Slot', slotId.id);
  if (!slotRow?.content || slotRow.deleted) throw unprocessable(`Slot/${slotId.id} does not exist`);
  const slot = JSON.parse(slotRow.content) as Slot;
  const scheduleRef = slot.schedule?.reference ? parseLocalReference(slot.schedule.reference, ctx.fhirBase) : undefined;
  const scheduleRow = scheduleRef ? await readCurrent(q, 'Schedule', scheduleRef.id) : undefined;
  const schedule = scheduleRow?.content && !scheduleRow.deleted ? (JSON.parse(scheduleRow.content) as Schedule) : undefined;
  const category = body.find((p) => p.name === 'serviceCategory')?.valueCodeableConcept;
  const reason = body.find((p) => p.name === 'reason')?.valueCodeableConcept ?? (input.string('reason') ? { text: input.string('reason') } : undefined);
  const participants: AppointmentParticipant[] = [
    { actor: { reference: `Patient/${patient.id}` }, status: 'accepted' },
    ...(schedule?.actor ?? []).map((actor) => ({ actor, status: 'accepted' as const })),
  ];
  const appointment: Appointment = {
    resourceType: 'Appointment',
    status: 'booked',
    slot: [{ reference: `Slot/${slotId.id}` }],
    start: slot.start,
    end: slot.end,
    // When the request was answered, to the second: the CPTS's delay to appointment is counted from it.
    created: new Date().toISOString(),
    participant: participants,
    // The SAS's serviceType extension points the slot at the CPTS's HealthcareService: not the appointment's.
    ...(category ? { serviceCategory: [category] } : {}),
    ...(slot.serviceType ? { serviceType: slot.serviceType.map(({ extension: _e, ...c }) => c).filter((c) => Object.keys(c).length) } : {}),
    ...(slot.specialty ? { specialty: slot.specialty } : {}),
    ...(slot.appointmentType ? { appointmentType: slot.appointmentType } : {}),
    ...(reason ? { reasonCode: [reason] } : {}),
    ...(input.string('comment') ? { comment: input.string('comment') } : {}),
    ...(input.integer('priority') !== undefined ? { priority: input.integer('priority') } : {}),
  };
  return dispatch(ctx, { method: 'POST', path: ['Appointment'], query: new URLSearchParams(), prefer: req.prefer, body: appointment });
}
