import type { Bundle, Subscription } from '@medplum/fhirtypes';
import { matches } from './bundle.js';

/**
 * A professional's email alerts about one patient's stays and encounters: an email Subscription
 * on the patient's Encounters, owned by her (what it sends is judged by her rights at each
 * event; the message names the event and links to the record, never clinical content).
 */
export const encounterCriteria = (patientId: string) => `Encounter?patient=Patient/${patientId}`;

export const alertsQuery = (patientId: string) =>
  `Subscription?type=email&status=active,requested,error&criteria:exact=${encodeURIComponent(encounterCriteria(patientId))}&_count=20`;

/** The alerts of this address among those found. */
export const alertsTo = (bundle: Bundle, email: string) => matches(bundle, 'Subscription').filter((s) => s.channel.endpoint === `mailto:${email}`);

export const encounterAlert = (patientId: string, email: string): Subscription => ({
  resourceType: 'Subscription',
  status: 'requested',
  // No name: whoever reads the Subscription learns no more than its criteria's id.
  reason: 'Alerte par courriel : séjours et rencontres d’un patient',
  criteria: encounterCriteria(patientId),
  channel: { type: 'email', endpoint: `mailto:${email}` },
});

/** A transaction stopping alerts: their Subscriptions deleted. */
export const stopAlerts = (alerts: Subscription[]): Bundle => ({
  resourceType: 'Bundle',
  type: 'transaction',
  entry: alerts.map((s) => ({ request: { method: 'DELETE', url: `Subscription/${s.id}` } })),
});
