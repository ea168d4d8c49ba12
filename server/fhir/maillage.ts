/** Canonical URLs of Maillage's own conformance and terminology resources. */
export const MAILLAGE_CANONICAL = 'https://fhir.maillage.fr';

/**
 * Coordination activities the national nomenclatures do not cover (DOMAIN.md §3.2): PPCS,
 * concertation, demande d'appui, post-discharge follow-up, re-evaluation, référent, coordinator.
 */
export const COORDINATION_SYSTEM = `${MAILLAGE_CANONICAL}/CodeSystem/coordination`;

/** The OAuth client id of Maillage's own coordination app (server/auth/coordination-client.ts, app/). */
export const COORDINATION_APP_CLIENT_ID = 'maillage-coordination';

/** The fhirContext role of the PractitionerRole the user acts in (a token's launch context, read by the app). */
export const ACTING_AS = 'urn:maillage:fhir-context-role:acting-as';
