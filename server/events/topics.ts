import type { Appointment, CarePlan, CareTeam, Encounter, Reference, Resource, Task } from '@medplum/fhirtypes';

/**
 * The pôle's subscription topics (R4 Backport IG: R4 has no SubscriptionTopic resource, a topic
 * is a canonical the server knows). Each says on which resource type it fires, whether a change
 * of a resource (its version before and after; after is absent for a delete) is one of its
 * events, and by what the subscriber may filter (`backport-filter-criteria`), each filter reading
 * values out of the resource. Whether a change fires depends on the data alone; whether the
 * subscriber may hear of it is judged at delivery, as them (topic-delivery.ts).
 *
 * A delete fires on the topics the deleted version was in scope of: the subscriber learns which
 * resource went, nothing of its content. The time-based topics fire only on the time events
 * (time-events.ts), never on writes.
 */
export const TOPIC_BASE = 'https://fhir.maillage.fr/SubscriptionTopic/';

export type Interaction = 'create' | 'update' | 'patch' | 'delete' | `time:${string}`;

export interface TopicChange {
  interaction: Interaction;
  /** The version before the change (absent for a create or a time event). */
  before?: Resource;
  /** The version after (absent for a delete). */
  after?: Resource;
}

export interface Topic {
  code: string;
  url: string;
  /** Other canonicals that name this topic (the IG's own example topic, for instance). */
  aliases?: string[];
  title: string;
  description: string;
  resource: string;
  /** Whether the resource is of the kind this topic speaks of (a deleted one of that kind fires). */
  inScope(r: Resource): boolean;
  /** Whether a write of a resource in scope is an event of the topic. */
  fires(before: Resource | undefined, after: Resource): boolean;
  /** Only time events raise it (time-events.ts). */
  timed?: boolean;
  /** Filter parameter → the values (references as `Type/id`, or codes) the resource carries. */
  filters: Record<string, { description: string; values: (r: Resource) => (string | undefined)[] }>;
}

const ref = (r: Reference | undefined) => r?.reference;
const isInpatient = (r: Resource) => (r as Encounter).class?.code === 'IMP';
const status = (r: Resource | undefined) => (r as { status?: string } | undefined)?.status;
/** The locations an Encounter is at now: those whose stay there has not ended. */
const currentLocations = (e: Encounter) =>
  (e.location ?? [])
    .filter((l) => l.status !== 'completed' && !l.period?.end)
    .map((l) => l.location.reference)
    .sort()
    .join(' ');
/** The members whose participation has not ended. */
const activeMembers = (t: CareTeam | undefined) =>
  new Set((t?.participant ?? []).filter((p) => !p.period?.end && p.member?.reference).map((p) => p.member?.reference as string));

const encounterFilters: Topic['filters'] = {
  patient: { description: 'Encounter.subject (Patient/[id])', values: (r) => [ref((r as Encounter).subject)] },
  'service-provider': { description: 'Encounter.serviceProvider (Organization/[id])', values: (r) => [ref((r as Encounter).serviceProvider)] },
};
const taskFilters: Topic['filters'] = {
  owner: { description: 'Task.owner (e.g. PractitionerRole/[id])', values: (r) => [ref((r as Task).owner)] },
  patient: { description: 'Task.for (Patient/[id])', values: (r) => [ref((r as Task).for)] },
};
const carePlanFilters: Topic['filters'] = {
  patient: { description: 'CarePlan.subject (Patient/[id])', values: (r) => [ref((r as CarePlan).subject)] },
};
const ACTIVE_ENCOUNTER = new Set(['arrived', 'triaged', 'in-progress', 'onleave']);
const CLOSED_TASK = new Set(['completed', 'cancelled', 'failed', 'rejected', 'entered-in-error']);

export const TOPICS: Topic[] = [
  {
    code: 'admission',
    url: `${TOPIC_BASE}admission`,
    aliases: ['http://hl7.org/SubscriptionTopic/admission'],
    title: 'Admission en hospitalisation',
    description: 'An inpatient Encounter (class IMP) starts: created or moved to arrived / in-progress.',
    resource: 'Encounter',
    inScope: isInpatient,
    fires: (before, after) => ACTIVE_ENCOUNTER.has(status(after) ?? '') && !ACTIVE_ENCOUNTER.has(status(before) ?? ''),
    filters: encounterFilters,
  },
  {
    code: 'discharge',
    url: `${TOPIC_BASE}discharge`,
    title: "Sortie d'hospitalisation",
    description: 'An inpatient Encounter (class IMP) ends: its status becomes finished, or its period.end is set.',
    resource: 'Encounter',
    inScope: isInpatient,
    fires: (before, after) =>
      (status(after) === 'finished' && status(before) !== 'finished') ||
      (!!(after as Encounter).period?.end && !(before as Encounter | undefined)?.period?.end && status(before) !== 'finished'),
    filters: encounterFilters,
  },
  {
    code: 'transfer',
    url: `${TOPIC_BASE}transfer`,
    title: 'Transfert (mutation) en cours de séjour',
    description: 'An inpatient Encounter under way changes its current location or its service provider.',
    resource: 'Encounter',
    inScope: isInpatient,
    fires: (before, after) =>
      !!before &&
      ACTIVE_ENCOUNTER.has(status(before) ?? '') &&
      ACTIVE_ENCOUNTER.has(status(after) ?? '') &&
      (currentLocations(before as Encounter) !== currentLocations(after as Encounter) ||
        ref((before as Encounter).serviceProvider) !== ref((after as Encounter).serviceProvider)),
    filters: encounterFilters,
  },
  {
    code: 'task-owner',
    url: `${TOPIC_BASE}task-owner`,
    title: 'Tâche assignée ou modifiée pour son responsable',
    description: 'A Task with an owner is created, assigned to another owner, or changed.',
    resource: 'Task',
    inScope: (r) => !!(r as Task).owner?.reference,
    fires: () => true,
    filters: taskFilters,
  },
  {
    code: 'care-plan',
    url: `${TOPIC_BASE}care-plan`,
    title: 'PPCS (plan de soins) créé ou révisé',
    description: 'A CarePlan (a PPCS) is created or revised.',
    resource: 'CarePlan',
    inScope: () => true,
    fires: () => true,
    filters: carePlanFilters,
  },
  {
    code: 'care-team-member',
    url: `${TOPIC_BASE}care-team-member`,
    title: 'Cercle de soins : membre ajouté ou sorti',
    description: "A CareTeam's participant is added, or their participation ends (period.end set, or removed).",
    resource: 'CareTeam',
    inScope: () => true,
    fires: (before, after) => {
      const was = activeMembers(before as CareTeam | undefined);
      const is = activeMembers(after as CareTeam);
      return was.size !== is.size || [...is].some((m) => !was.has(m));
    },
    filters: {
      patient: { description: 'CareTeam.subject (Patient/[id])', values: (r) => [ref((r as CareTeam).subject)] },
      member: {
        description: 'CareTeam.participant.member (e.g. PractitionerRole/[id])',
        values: (r) => (r as CareTeam).participant?.map((p) => ref(p.member)) ?? [],
      },
    },
  },
  {
    code: 'concertation',
    url: `${TOPIC_BASE}concertation`,
    title: 'Réunion de concertation planifiée',
    description: 'An Appointment of service type concertation-pluripro is booked, or its start moves while booked.',
    resource: 'Appointment',
    inScope: (r) => !!(r as Appointment).serviceType?.some((t) => t.coding?.some((c) => c.code === 'concertation-pluripro')),
    fires: (before, after) => status(after) === 'booked' && (status(before) !== 'booked' || (before as Appointment).start !== (after as Appointment).start),
    filters: {
      actor: {
        description: 'Appointment.participant.actor (e.g. PractitionerRole/[id])',
        values: (r) => (r as Appointment).participant?.map((p) => ref(p.actor)) ?? [],
      },
      patient: {
        description: 'Appointment.participant.actor that is a Patient',
        values: (r) => (r as Appointment).participant?.map((p) => ref(p.actor)).filter((a) => a?.startsWith('Patient/')) ?? [],
      },
    },
  },
  {
    code: 'consent',
    url: `${TOPIC_BASE}consent`,
    title: 'Consentement ou opposition modifié',
    description: 'A Consent is created, changed or deleted.',
    resource: 'Consent',
    inScope: () => true,
    fires: () => true,
    filters: { patient: { description: 'Consent.patient (Patient/[id])', values: (r) => [ref((r as { patient?: Reference }).patient)] } },
  },
  {
    code: 'task-overdue',
    url: `${TOPIC_BASE}task-overdue`,
    title: 'Tâche en retard',
    description: 'A Task not closed passes its due date (restriction.period.end). Raised once per due date.',
    resource: 'Task',
    inScope: (r) => !CLOSED_TASK.has(status(r) ?? ''),
    fires: () => false,
    timed: true,
    filters: taskFilters,
  },
  {
    code: 'care-plan-activity-due',
    url: `${TOPIC_BASE}care-plan-activity-due`,
    title: 'Action du PPCS à échéance',
    description:
      "An active CarePlan's activity (detail.scheduledPeriod.start) falls due within the next DUE_SOON_DAYS days. Raised once per activity and date.",
    resource: 'CarePlan',
    inScope: () => true,
    fires: () => false,
    timed: true,
    filters: {
      ...carePlanFilters,
      performer: {
        description: 'CarePlan.activity.detail.performer (e.g. PractitionerRole/[id])',
        values: (r) => (r as CarePlan).activity?.flatMap((a) => a.detail?.performer?.map(ref) ?? []) ?? [],
      },
    },
  },
];

const BY_URL = new Map(TOPICS.flatMap((t) => [t.url, ...(t.aliases ?? [])].map((u) => [u, t] as const)));

export const topicByUrl = (url: string | undefined): Topic | undefined => (url ? BY_URL.get(url) : undefined);

/** Whether a change is an event of the topic: a time event of its own, a delete of a resource in its scope, or a write it fires on. */
export function topicFires(topic: Topic, change: TopicChange): boolean {
  if (change.interaction.startsWith('time:')) return change.interaction === `time:${topic.code}` && !!change.after;
  if (topic.timed) return false;
  if (change.interaction === 'delete') return !!change.before && topic.inScope(change.before);
  return !!change.after && topic.inScope(change.after) && topic.fires(change.before, change.after);
}
