import type {
  Appointment,
  Bundle,
  BundleEntry,
  DocumentReference,
  Encounter,
  Organization,
  Patient,
  PractitionerRole,
  Reference,
  Task,
} from '@medplum/fhirtypes';
import { COORDINATION, SYSTEM } from '../../../server/fhir/vocabulary.js';
import { matches, versionTag } from './bundle.js';
import { base64ToText, textToBase64 } from './format.js';

export interface CaseInput {
  patient: Reference<Patient>;
  /** Why the situation is presented. */
  reason: string;
  /** What was decided, once the meeting is held: the case's compte rendu. */
  conclusion: string;
  /** The "to present in concertation" task this case answers: scheduled, then completed once held, If-Match. */
  flag?: Task;
  /** The case as recorded, when the meeting is edited. */
  encounter?: Encounter;
  report?: DocumentReference;
}

export interface MeetingInput {
  /** The meeting as read, when it is edited; absent for a new one. */
  appointment?: Appointment;
  start: string;
  end: string;
  description: string;
  attendees: Reference<PractitionerRole>[];
  organization?: Reference<Organization>;
  /** Held (with the cases' conclusions), or still planned. */
  held: boolean;
  cases: CaseInput[];
  /** Cases of the meeting as read that are taken off it: cancelled, their flag back to waiting. */
  removed?: CaseInput[];
  /** Who writes the comptes rendus. */
  author?: Reference<PractitionerRole>;
}

const REPORT_TYPE = { coding: COORDINATION.concertation.coding, text: 'Compte rendu de concertation pluriprofessionnelle' };

/** One entry of a transaction (an update If-Match the version read, or a creation under a new urn) and how the others refer to it. */
function write(resource: Appointment | Encounter | DocumentReference | Task): { entry: BundleEntry; ref: string } {
  if (resource.id) {
    const url = `${resource.resourceType}/${resource.id}`;
    return { entry: { resource, request: { method: 'PUT', url, ifMatch: versionTag(resource) } }, ref: url };
  }
  const fullUrl = `urn:uuid:${crypto.randomUUID()}`;
  return { entry: { fullUrl, resource, request: { method: 'POST', url: resource.resourceType } }, ref: fullUrl };
}

/**
 * A concertation pluriprofessionnelle as queryable records (DOMAIN.md §3.2), created or edited in
 * one transaction: the meeting is an Appointment (participants the PractitionerRoles attending),
 * each patient reviewed an Encounter of type concertation pointing to it (the reason presented;
 * finished once held), the flag it answers a Task scheduled then completed (its output the case),
 * and once held each case's conclusion a DocumentReference, the compte rendu (`context.encounter`).
 * What was read is written If-Match its version: a concurrent edit is refused, never overwritten.
 */
export function meetingTransaction(m: MeetingInput): Bundle {
  const appointment: Appointment = {
    ...m.appointment,
    resourceType: 'Appointment',
    status: m.held ? 'fulfilled' : 'booked',
    serviceType: [COORDINATION.concertation],
    description: m.description,
    start: m.start,
    end: m.end,
    participant: m.attendees.map((actor) => ({ actor, status: 'accepted' })),
  };
  const meeting = write(appointment);
  const entries: BundleEntry[] = [meeting.entry];
  for (const c of m.cases) {
    const { reasonCode: _reason, ...kept } = c.encounter ?? ({} as Partial<Encounter>);
    const encounter = write({
      ...kept,
      resourceType: 'Encounter',
      status: m.held ? 'finished' : 'planned',
      class: kept.class ?? { system: SYSTEM.actCode, code: 'AMB', display: 'ambulatory' },
      type: [COORDINATION.concertation],
      subject: c.patient,
      appointment: [{ reference: meeting.ref }],
      participant: m.attendees.map((individual) => ({ individual })),
      period: { start: m.start, end: m.end },
      ...(c.reason.trim() ? { reasonCode: [{ text: c.reason.trim() }] } : {}),
      ...(m.organization ? { serviceProvider: m.organization } : {}),
    });
    entries.push(encounter.entry);
    const flagStatus = m.held ? 'completed' : 'accepted';
    if (c.flag && c.flag.status !== flagStatus) {
      entries.push(write({ ...c.flag, status: flagStatus, output: [{ type: COORDINATION.concertation, valueReference: { reference: encounter.ref } }] }).entry);
    }
    if (m.held && c.conclusion.trim() && (!c.report || reportText(c.report) !== c.conclusion.trim())) {
      entries.push(
        write({
          ...c.report,
          resourceType: 'DocumentReference',
          status: 'current',
          type: REPORT_TYPE,
          subject: c.patient,
          date: new Date().toISOString(),
          ...(m.author ? { author: [m.author] } : {}),
          description: `Concertation pluriprofessionnelle du ${m.start.slice(0, 10)}`,
          content: [{ attachment: { contentType: 'text/plain; charset=utf-8', data: textToBase64(c.conclusion.trim()) } }],
          context: { encounter: [{ reference: encounter.ref }], period: { start: m.start, end: m.end } },
        }).entry,
      );
    }
  }
  for (const c of m.removed ?? []) {
    if (c.encounter?.id) entries.push(write({ ...c.encounter, status: 'cancelled' }).entry);
    if (c.flag) {
      const { output: _output, ...waiting } = c.flag;
      entries.push(write({ ...waiting, status: 'requested' }).entry);
    }
  }
  return { resourceType: 'Bundle', type: 'transaction', entry: entries };
}

/** A compte rendu's text. */
export const reportText = (report: DocumentReference | undefined) => {
  const data = report?.content?.[0]?.attachment?.data;
  return data === undefined ? '' : base64ToText(data);
};

const pointsTo = (ref: Reference | undefined, type: string, id: string | undefined) => !!id && ref?.reference === `${type}/${id}`;

/**
 * The cases of a meeting as recorded, from the view's searches (the concertation Encounters with
 * their comptes rendus reverse-included, the flags scheduled or done): what its form edits.
 */
export function meetingCases(appointment: Appointment, cases: Bundle | undefined, flags: Bundle | undefined): CaseInput[] {
  // The comptes rendus come reverse-included.
  const reports = (cases?.entry ?? []).map((e) => e.resource).filter((r): r is DocumentReference => r?.resourceType === 'DocumentReference');
  const tasks = matches(flags, 'Task');
  return matches(cases, 'Encounter')
    .filter((e) => e.status !== 'cancelled' && e.appointment?.some((a) => pointsTo(a, 'Appointment', appointment.id)))
    .map((encounter) => {
      const report = reports.find((d) => d.status === 'current' && d.context?.encounter?.some((r) => pointsTo(r, 'Encounter', encounter.id)));
      const flag = tasks.find((t) => t.output?.some((o) => pointsTo(o.valueReference, 'Encounter', encounter.id)));
      return {
        patient: encounter.subject as Reference<Patient>,
        reason: encounter.reasonCode?.[0]?.text ?? '',
        conclusion: reportText(report),
        encounter,
        ...(report ? { report } : {}),
        ...(flag ? { flag } : {}),
      };
    });
}
