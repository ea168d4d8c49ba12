import type { CommunicationRequest, Encounter, Patient, Resource } from '@medplum/fhirtypes';
import { unprocessable } from '../../fhir/outcome.js';
import type { Queryable } from '../../store/db.js';
import { recordPatientOf, recordPatientReference } from './patients.js';
import { claims, containedOf, EVENT_TYPE_SYSTEM, EVENT_TYPES, eventTypeConcept, eventTypeOf, extensionOf, NDE_EXTENSION, NDE_PROFILE } from './vocabulary.js';

/**
 * Flux 3 (EmissionEvenement): an emitter declares an event by `POST CommunicationRequest`
 * (nde-eventdeclaration). Maillage, the gestionnaire d'abonnements, checks what its subscribers'
 * searches and its access rules need (a JDV_J46 event type, the event time, a subject xor about,
 * one payload, a requester) and files the event under the record's Patient: the contained patient
 * is replaced by a reference to the Patient holding its identifiers (kept in the reference), so
 * that `patient=` criteria, chains on the patient, the équipe de soins and oppositions apply.
 */
export const isEventDeclaration = (cr: CommunicationRequest): boolean => claims(cr, NDE_PROFILE.eventDeclaration) || !!extensionOf(cr, NDE_EXTENSION.eventType);

export async function acceptDeclaration(tx: Queryable, fhirBase: string, cr: CommunicationRequest): Promise<CommunicationRequest> {
  if (!eventTypeOf(cr)) {
    throw unprocessable(
      `nde-eventdeclaration: extension event-type must hold a code of JDV_J46 (${EVENT_TYPE_SYSTEM}): ${Object.keys(EVENT_TYPES).join(', ')}`,
      ['extension'],
    );
  }
  if (!extensionOf(cr, NDE_EXTENSION.eventTime)?.valueDateTime)
    throw unprocessable('nde-eventdeclaration: extension event-time (valueDateTime) is required', ['extension']);
  if (!!cr.subject === !!cr.about?.length) throw unprocessable('nde-eventdeclaration (event-subject): one of subject or about, not both', ['subject']);
  if (cr.payload?.length !== 1) throw unprocessable('nde-eventdeclaration: exactly one payload', ['payload']);
  if (!cr.requester) throw unprocessable('nde-eventdeclaration: requester (the emitter) is required', ['requester']);
  if (!cr.subject) return cr;
  const contained = containedOf(cr, cr.subject.reference);
  if (!contained) {
    if (recordPatientReference(cr.subject)) return cr;
    throw unprocessable('nde-eventdeclaration: subject is a contained Patient (#id) or a Patient of the record', ['subject']);
  }
  if (contained.resourceType !== 'Patient') throw unprocessable('nde-eventdeclaration: subject must be a Patient', ['subject']);
  const patient = contained as Patient;
  const id = await recordPatientOf(tx, fhirBase, patient);
  const rest = cr.contained?.filter((c) => c !== contained) ?? [];
  const identifier = patient.identifier?.find((i) => i.system && i.value);
  return { ...cr, contained: rest.length ? rest : undefined, subject: { reference: `Patient/${id}`, ...(identifier ? { identifier } : {}) } };
}

/** Hospital stays (v3 ActCode IMP and its kinds): their admissions and discharges are NdE events. */
const INPATIENT = new Set(['IMP', 'ACUTE', 'NONAC']);
const BEFORE_ADMISSION = new Set([undefined, 'planned', 'arrived', 'triaged']);

/** ADM when a stay's Encounter goes in progress, SOR when it is finished; undefined otherwise. */
export function encounterEvent(before: Encounter | undefined, after: Encounter): 'ADM' | 'SOR' | undefined {
  if (!INPATIENT.has(after.class?.code ?? '') || !recordPatientReference(after.subject)) return undefined;
  if (after.status === 'in-progress' && BEFORE_ADMISSION.has(before?.status)) return 'ADM';
  if (after.status === 'finished' && before?.status !== 'finished') return 'SOR';
  return undefined;
}

/**
 * The event declaration Maillage files of its own accord for a stay's admission or discharge, as
 * if the hospital had sent flux 3: same event types, same searches, same rules. The payload
 * names the event only; the Encounter is linked.
 */
export function declarationOf(encounter: Encounter, id: string, code: 'ADM' | 'SOR'): CommunicationRequest {
  const at = (code === 'ADM' ? encounter.period?.start : encounter.period?.end) ?? new Date().toISOString();
  return {
    resourceType: 'CommunicationRequest',
    extension: [
      { url: NDE_EXTENSION.eventType, valueCodeableConcept: eventTypeConcept(code) },
      { url: NDE_EXTENSION.eventTime, valueDateTime: at },
    ],
    status: 'active',
    subject: encounter.subject,
    encounter: { reference: `Encounter/${id}` },
    requester: encounter.serviceProvider ?? { display: 'Établissement de santé' },
    authoredOn: new Date().toISOString(),
    payload: [{ contentString: EVENT_TYPES[code] }],
  };
}

export const isEncounter = (r: Resource | null | undefined): r is Encounter => r?.resourceType === 'Encounter';
