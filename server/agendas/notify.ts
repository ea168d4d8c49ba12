import type { Appointment, Communication, Patient, Resource } from '@medplum/fhirtypes';
import { parseLocalReference } from '../fhir/ids.js';
import { COORDINATION, SYSTEM } from '../fhir/vocabulary.js';
import type { Queryable } from '../store/db.js';
import { readCurrent } from '../store/resources.js';

const HOLDING = new Set<Appointment['status']>(['pending', 'booked', 'arrived', 'fulfilled', 'checked-in']);
const SNP = COORDINATION.soinsNonProgrammes.coding?.[0].code;

const isSnp = (a: Appointment) => !!a.serviceCategory?.some((c) => c.coding?.some((x) => x.system === SYSTEM.coordination && x.code === SNP));
const books = (previous: Resource | undefined, next: Resource | null): next is Appointment =>
  next?.resourceType === 'Appointment' &&
  HOLDING.has((next as Appointment).status) &&
  !(previous?.resourceType === 'Appointment' && HOLDING.has((previous as Appointment).status));

/**
 * The notice to the patient's médecin traitant when a request for soins non programmés is booked
 * (an Appointment of category soins-non-programmes turning booked): a Communication (category
 * notification, about the Appointment, sent now) to the GPs of the patient — the PCP of their
 * cercle de soins, else Patient.generalPractitioner — who are not the booked professional. The
 * GP's Subscription on `Communication?recipient=…` hears it; the booked professional hears the
 * Appointment itself (`Appointment?actor=…`). Undefined when there is no one to tell.
 */
export async function bookingNotice(
  tx: Queryable,
  fhirBase: string,
  previous: Resource | undefined,
  next: Resource | null,
): Promise<Communication | undefined> {
  if (!books(previous, next) || !isSnp(next)) return undefined;
  const patientRef = next.participant?.map((p) => p.actor?.reference).find((r) => r && parseLocalReference(r, fhirBase)?.type === 'Patient');
  const patientId = patientRef ? parseLocalReference(patientRef, fhirBase)?.id : undefined;
  if (!patientId) return undefined;
  const booked = new Set(next.participant?.flatMap((p) => (p.actor?.reference ? [local(p.actor.reference, fhirBase)] : [])));
  const gps = await gpsOf(tx, fhirBase, patientId);
  const recipients = gps.filter((gp) => !booked.has(gp));
  if (!recipients.length) return undefined;
  const who = (next.participant ?? [])
    .flatMap((p) => (p.actor?.reference && /^Practitioner(Role)?\//.test(local(p.actor.reference, fhirBase)) ? [p.actor.display ?? p.actor.reference] : []))
    .join(', ');
  const reason = next.reasonCode
    ?.map((r) => r.text ?? r.coding?.[0]?.display)
    .filter(Boolean)
    .join(', ');
  return {
    resourceType: 'Communication',
    status: 'completed',
    category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/communication-category', code: 'notification' }] }],
    topic: COORDINATION.soinsNonProgrammes,
    subject: { reference: `Patient/${patientId}` },
    about: [{ reference: `Appointment/${next.id}` }],
    recipient: recipients.map((reference) => ({ reference })),
    sent: new Date().toISOString(),
    payload: [
      {
        contentString: `Votre patient a un rendez-vous de soins non programmés le ${when(next.start)}${who ? ` avec ${who}` : ''}${reason ? ` (motif : ${reason})` : ''}.`,
      },
    ],
  };
}

/** The appointment's time as the GP reads it: in French, at the time of metropolitan France. */
const when = (start: string | undefined) =>
  start ? new Date(start).toLocaleString('fr-FR', { timeZone: 'Europe/Paris', dateStyle: 'full', timeStyle: 'short' }) : '(heure à préciser)';

const local = (reference: string, fhirBase: string) => {
  const ref = parseLocalReference(reference, fhirBase);
  return ref ? `${ref.type}/${ref.id}` : reference;
};

/** The patient's GPs now: the PCP links of their cercle de soins, else the Patient's generalPractitioner. */
async function gpsOf(tx: Queryable, fhirBase: string, patientId: string): Promise<string[]> {
  const rows = await tx.query<{ actor: string }>(
    `SELECT DISTINCT actor FROM care_link WHERE patient = $1 AND kind = 'pcp' AND start <= now() AND until > now() ORDER BY actor`,
    [patientId],
  );
  if (rows.length) return rows.map((r) => r.actor);
  const row = await readCurrent(tx, 'Patient', patientId);
  const patient = row?.content && !row.deleted ? (JSON.parse(row.content) as Patient) : undefined;
  return (patient?.generalPractitioner ?? [])
    .flatMap((g) => (g.reference ? [local(g.reference, fhirBase)] : []))
    .filter((r) => /^Practitioner(Role)?\//.test(r));
}
