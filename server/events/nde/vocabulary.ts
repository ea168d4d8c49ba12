import type { CodeableConcept, Extension, Resource } from '@medplum/fhirtypes';

/**
 * The ANS CI-SIS *Notification d'évènements* volet (`ans.fhir.fr.nde` 3.0.0): its canonicals, and
 * the event types of JDV_J46 (TRE_R254), to which its `event-type` extension is bound (required).
 */
export const NDE = 'https://interop.esante.gouv.fr/ig/fhir/nde';

/** The volet's actor Maillage plays, named in /metadata's `instantiates`. */
export const NDE_CAPABILITY = `${NDE}/CapabilityStatement/NdE-GestionnaireDAbonnements`;

export const NDE_PROFILE = {
  subscription: `${NDE}/StructureDefinition/nde-subscription`,
  eventDeclaration: `${NDE}/StructureDefinition/nde-eventdeclaration`,
  notificationRequest: `${NDE}/StructureDefinition/nde-notificationrequest`,
};

export const NDE_EXTENSION = {
  eventType: `${NDE}/StructureDefinition/event-type`,
  eventTime: `${NDE}/StructureDefinition/event-time`,
  eventEmissionTime: `${NDE}/StructureDefinition/event-emission-time`,
  subject: `${NDE}/StructureDefinition/subject`,
  subscriber: `${NDE}/StructureDefinition/subscriber`,
  recipientEndpoint: `${NDE}/StructureDefinition/recipient-endpoint`,
};

export const EVENT_TYPE_SYSTEM = 'https://mos.esante.gouv.fr/NOS/TRE_R254-TypeEvenement/FHIR/TRE-R254-TypeEvenement';

/** JDV_J46: the patient's events with their labels, then the medical-device ones (labels not held). */
export const EVENT_TYPES: Record<string, string> = {
  ADM: "Admission d'un patient dans l'établissement de santé",
  SOR: "Sortie d'un patient de l'établissement de santé",
  DOC: "Dépôt d'un document",
  NOT: 'Note dans le cahier de liaison',
  ...Object.fromEntries(['AUT', 'CDM', 'DEM', 'DEL', 'ECH', 'ESD', 'NCO', 'PER', 'POS', 'REA', 'REC', 'REP', 'SDM', 'SSD', 'TRA'].map((c) => [c, c])),
};

export const eventTypeConcept = (code: string): CodeableConcept => ({ coding: [{ system: EVENT_TYPE_SYSTEM, code, display: EVENT_TYPES[code] }] });

type WithExtensions = { extension?: Extension[] };

export const extensionOf = (r: WithExtensions | undefined, url: string): Extension | undefined => r?.extension?.find((e) => e.url === url);

/** The JDV_J46 code of an `event-type` extension, if it holds one. */
export function eventTypeOf(r: WithExtensions | undefined): string | undefined {
  const coding = extensionOf(r, NDE_EXTENSION.eventType)?.valueCodeableConcept?.coding?.find((c) => c.system === EVENT_TYPE_SYSTEM);
  return coding?.code && coding.code in EVENT_TYPES ? coding.code : undefined;
}

export const claims = (r: Resource, profile: string): boolean => !!r.meta?.profile?.includes(profile);

/** A resource of `contained` named by a local reference (`#pat1`). */
export function containedOf(r: { contained?: Resource[] }, reference: string | undefined): Resource | undefined {
  if (!reference?.startsWith('#')) return undefined;
  return r.contained?.find((c) => c.id === reference.slice(1));
}
