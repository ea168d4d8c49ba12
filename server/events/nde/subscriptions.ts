import type { Patient, Subscription } from '@medplum/fhirtypes';
import { unprocessable } from '../../fhir/outcome.js';
import type { Queryable } from '../../store/db.js';
import { parseCriteria } from '../subscription-rules.js';
import { recordPatientOf, recordPatientReference } from './patients.js';
import { claims, containedOf, eventTypeOf, extensionOf, NDE_EXTENSION, NDE_PROFILE } from './vocabulary.js';

/**
 * Flux 1 (SouscriptionAbonnement): an nde-subscription is a classic R4 Subscription whose criteria
 * search the event declarations (CommunicationRequest). Its extensions say the same as a search
 * would (the event type, the patient, contained): what its criteria leave out is added from them
 * (`event-type=SOR`, `patient=Patient/x`, the contained patient found in the record), so that
 * what is delivered is what the subscription says, and the client reads the criteria back.
 */
export const isNdeSubscription = (s: Subscription): boolean => claims(s, NDE_PROFILE.subscription) || !!extensionOf(s, NDE_EXTENSION.eventType);

export async function acceptNdeSubscription(tx: Queryable, fhirBase: string, s: Subscription): Promise<Subscription> {
  const code = eventTypeOf(s);
  if (!code) throw unprocessable('nde-subscription: extension event-type must hold a code of JDV_J46', ['extension']);
  const { type, query } = parseCriteria(s.criteria || 'CommunicationRequest');
  if (type !== 'CommunicationRequest') throw unprocessable('nde-subscription: criteria searches CommunicationRequest (the event declarations)', ['criteria']);
  if (!query.has('event-type')) query.set('event-type', code);
  const namesPatient = [...query.keys()].some((k) => /^(patient|subject)([.:]|$)/.test(k));
  const subject = extensionOf(s, NDE_EXTENSION.subject)?.valueReference;
  if (!namesPatient && subject) {
    const contained = containedOf(s, subject.reference);
    const reference =
      contained?.resourceType === 'Patient' ? `Patient/${await recordPatientOf(tx, fhirBase, contained as Patient)}` : recordPatientReference(subject);
    if (!reference) throw unprocessable('nde-subscription: extension subject names a contained Patient or a Patient of the record', ['extension']);
    query.set('patient', reference);
  }
  // Readable criteria: `/` and `|` need no escaping in a query.
  return { ...s, criteria: `CommunicationRequest?${query.toString().replace(/%2F/gi, '/').replace(/%7C/gi, '|')}` };
}
