import type { Appointment, Bundle, BundleEntry, Encounter, Organization, Patient, PractitionerRole, Reference, Task } from '@medplum/fhirtypes';
import { COORDINATION, SYSTEM } from '../../../server/fhir/vocabulary.js';
import { versionTag } from './bundle.js';

export interface CaseInput {
  patient: Reference<Patient>;
  /** Why the situation is presented, or what was decided. */
  note: string;
  /** The "to present in concertation" task this case answers: it is completed, If-Match. */
  flag?: Task;
}

export interface MeetingInput {
  start: string;
  end: string;
  description: string;
  attendees: Reference<PractitionerRole>[];
  organization?: Reference<Organization>;
  cases: CaseInput[];
}

/**
 * A concertation pluriprofessionnelle as queryable records (DOMAIN.md §3.2): the meeting is an
 * Appointment, each patient reviewed an Encounter of type concertation pointing to it, written
 * with the flags they answer in one transaction.
 */
export function meetingTransaction(m: MeetingInput): Bundle {
  const meetingUrl = `urn:uuid:${crypto.randomUUID()}`;
  const held = new Date(m.end) < new Date();
  const appointment: Appointment = {
    resourceType: 'Appointment',
    status: held ? 'fulfilled' : 'booked',
    serviceType: [COORDINATION.concertation],
    description: m.description,
    start: m.start,
    end: m.end,
    participant: m.attendees.map((actor) => ({ actor, status: 'accepted' })),
  };
  const entries: BundleEntry[] = [{ fullUrl: meetingUrl, resource: appointment, request: { method: 'POST', url: 'Appointment' } }];
  for (const c of m.cases) {
    const encounter: Encounter = {
      resourceType: 'Encounter',
      status: held ? 'finished' : 'planned',
      class: { system: SYSTEM.actCode, code: 'AMB', display: 'ambulatory' },
      type: [COORDINATION.concertation],
      subject: c.patient,
      appointment: [{ reference: meetingUrl }],
      participant: m.attendees.map((individual) => ({ individual })),
      period: { start: m.start, end: m.end },
      ...(c.note ? { reasonCode: [{ text: c.note }] } : {}),
      ...(m.organization ? { serviceProvider: m.organization } : {}),
    };
    entries.push({ fullUrl: `urn:uuid:${crypto.randomUUID()}`, resource: encounter, request: { method: 'POST', url: 'Encounter' } });
    if (c.flag) {
      entries.push({
        resource: { ...c.flag, status: held ? 'completed' : 'accepted' },
        request: { method: 'PUT', url: `Task/${c.flag.id}`, ifMatch: versionTag(c.flag) },
      });
    }
  }
  return { resourceType: 'Bundle', type: 'transaction', entry: entries };
}
