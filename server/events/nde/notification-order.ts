import type { CodeableConcept, CommunicationRequest, ContactPoint, Extension, Patient, Reference, Resource, Subscription } from '@medplum/fhirtypes';
import { bodyOf, type Context } from '../../interactions/context.js';
import type { Dispatch } from '../../route.js';
import { resolvedRefusal } from '../endpoint.js';
import { channelHeaders } from '../subscription-rules.js';
import { isNdeSubscription } from './subscriptions.js';
import { recordPatientReference } from './patients.js';
import { containedOf, EVENT_TYPES, eventTypeOf, extensionOf, NDE_EXTENSION, NDE_PROFILE } from './vocabulary.js';

/**
 * Flux 4 (TransmissionOrdreNotification): for an nde-subscription with a rest-hook channel, the
 * endpoint is the FHIR base of the subscriber's gestionnaire de notifications, and each event is
 * sent there as `POST [endpoint]/CommunicationRequest` (nde-notificationrequest): the event type
 * and times, the patient, the emitter and the subscriber contained, the subscription in
 * `basedOn`, a description of the event as payload (a string, never the encapsulated flow).
 * Everything in it is read as the subscriber, at delivery, through the dispatch (its rights, the
 * équipe de soins of that moment, the audit trail): a patient they may not read withholds it.
 */
const TIMEOUT_MS = 10_000;
const MEDIUM_SYSTEM = 'https://mos.esante.gouv.fr/NOS/TRE_R200-CanalCommunication/FHIR/TRE-R200-CanalCommunication';

export const takesNotificationOrders = (s: Subscription): boolean => s.channel.type === 'rest-hook' && isNdeSubscription(s);

export async function sendNotificationOrder(
  dispatch: Dispatch,
  ctx: Context,
  subscriptionId: string,
  subscription: Subscription,
  declaration: Resource,
): Promise<'sent' | 'withheld'> {
  const order = await notificationOrder(dispatch, ctx, subscriptionId, subscription, declaration as CommunicationRequest);
  if (!order) return 'withheld';
  const endpoint = subscription.channel.endpoint as string;
  const refused = await resolvedRefusal(endpoint);
  if (refused) throw new Error(refused);
  const url = `${endpoint.replace(/\/$/, '')}/CommunicationRequest`;
  const res = await fetch(url, {
    method: 'POST',
    headers: { ...channelHeaders(subscription), 'content-type': 'application/fhir+json', accept: 'application/fhir+json' },
    body: JSON.stringify(order),
    redirect: 'manual',
    signal: AbortSignal.timeout(TIMEOUT_MS),
  });
  await res.body?.cancel();
  if (res.status < 200 || res.status >= 300) throw new Error(`POST ${url} answered ${res.status}`);
  return 'sent';
}

/** Reads a resource as the subscriber; undefined when refused or gone. */
async function readAs(dispatch: Dispatch, ctx: Context, reference: string): Promise<Resource | undefined> {
  const [type, id] = reference.split('/');
  try {
    const res = await dispatch(ctx, { method: 'GET', path: [type, id], query: new URLSearchParams(), prefer: {} });
    return res.status === 200 ? bodyOf(res) : undefined;
  } catch {
    return undefined;
  }
}

/** A contained copy under a local id, without what is the record's own (meta, text, its id). */
function containedCopy<T extends Resource>(r: T, id: string): T {
  const { meta: _meta, text: _text, contained: _contained, ...rest } = r as T & { text?: unknown; contained?: unknown };
  return { ...rest, id } as T;
}

/** The patient as flux 4 names them: identity traits only (identifiers, names, sex, birth date). */
function identityOf(p: Patient): Patient {
  return { resourceType: 'Patient', id: 'patient', identifier: p.identifier, name: p.name, gender: p.gender, birthDate: p.birthDate };
}

/** The resource a reference of the declaration names: contained there, or read from the record. */
async function referenced(dispatch: Dispatch, ctx: Context, cr: CommunicationRequest, ref: Reference | undefined): Promise<Resource | undefined> {
  const local = containedOf(cr, ref?.reference);
  if (local) return local;
  if (ref?.reference && /^[A-Z][A-Za-z]+\/[A-Za-z0-9\-.]{1,64}$/.test(ref.reference)) return readAs(dispatch, ctx, ref.reference);
  return undefined;
}

/** Where the subscriber is reached: its email when it has one (Courrier électronique), else the channel's endpoint. */
function recipientEndpoint(subscriber: Resource | undefined, endpoint: string): { url: string; medium: CodeableConcept } {
  const telecom = (subscriber as { telecom?: ContactPoint[] } | undefined)?.telecom;
  const email = telecom?.find((t) => t.system === 'email' && t.value)?.value;
  if (email) return { url: `mailto:${email}`, medium: { coding: [{ system: MEDIUM_SYSTEM, code: '3', display: 'Courrier électronique' }] } };
  return { url: endpoint, medium: { text: 'Point de terminaison FHIR du gestionnaire de notifications' } };
}

async function notificationOrder(
  dispatch: Dispatch,
  ctx: Context,
  subscriptionId: string,
  subscription: Subscription,
  cr: CommunicationRequest,
): Promise<CommunicationRequest | undefined> {
  const code = eventTypeOf(cr);
  if (!code) return undefined;
  const patientRef = recordPatientReference(cr.subject);
  const patient = patientRef ? await readAs(dispatch, ctx, patientRef) : undefined;
  if (patientRef && !patient) return undefined;
  const emitter = (await referenced(dispatch, ctx, cr, cr.requester)) ?? { resourceType: 'Organization', name: cr.requester?.display ?? 'Émetteur' };
  const subscriberRef = extensionOf(subscription, NDE_EXTENSION.subscriber)?.valueReference;
  const subscriber = containedOf(subscription, subscriberRef?.reference);
  const reach = recipientEndpoint(subscriber, subscription.channel.endpoint as string);
  const content = cr.payload?.[0];
  const description = content?.contentString ?? content?.contentAttachment?.title ?? EVENT_TYPES[code];
  const eventTime = extensionOf(cr, NDE_EXTENSION.eventTime);
  const extension: Extension[] = [
    extensionOf(cr, NDE_EXTENSION.eventType) as Extension,
    ...(eventTime ? [eventTime] : []),
    { url: NDE_EXTENSION.eventEmissionTime, valueDateTime: cr.authoredOn ?? cr.meta?.lastUpdated },
  ];
  return {
    resourceType: 'CommunicationRequest',
    meta: { profile: [NDE_PROFILE.notificationRequest] },
    contained: [
      ...(patient ? [identityOf(patient as Patient)] : []),
      containedCopy(emitter, 'emitter'),
      containedCopy(subscriber ?? { resourceType: 'Organization', name: 'Abonné' }, 'recipient'),
    ],
    extension,
    basedOn: [{ reference: `${ctx.fhirBase}/Subscription/${subscriptionId}` }],
    status: 'active',
    medium: [reach.medium],
    ...(patient ? { subject: { reference: '#patient' } } : { about: cr.about }),
    ...(cr.encounter?.reference ? { encounter: { reference: `${ctx.fhirBase}/${cr.encounter.reference}` } } : {}),
    payload: [{ contentString: description }],
    authoredOn: new Date().toISOString(),
    requester: { reference: '#emitter' },
    recipient: [{ reference: '#recipient', extension: [{ url: NDE_EXTENSION.recipientEndpoint, valueUrl: reach.url }] }],
  };
}
