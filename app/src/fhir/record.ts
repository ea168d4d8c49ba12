import type { AuditEvent, Bundle, CarePlan, CareTeam, Condition, Encounter, Goal, Patient, Task } from '@medplum/fhirtypes';
import { matches, ResourceIndex } from './bundle.js';
import { codeText, frenchDate, isoDay, refText } from './format.js';
import { isPpcs } from './ppcs.js';

/** The searches of a patient's record view, as one batch (the access log comes after, on its own). */
export const recordQueries = (id: string) => {
  const p = encodeURIComponent(`Patient/${id}`);
  return [
    `Patient/${encodeURIComponent(id)}`,
    `CareTeam?patient=${p}&status=active&_include=CareTeam:participant&_include:iterate=PractitionerRole:practitioner&_include:iterate=PractitionerRole:organization`,
    `CarePlan?patient=${p}&_include=CarePlan:goal&_count=50`,
    `Encounter?patient=${p}&_sort=-date&_include=Encounter:service-provider&_count=50`,
    `Task?patient=${p}&_sort=-authored-on&_count=50`,
    `Condition?patient=${p}&_count=50`,
  ];
};

export interface PatientRecord {
  patient: Patient;
  careTeam?: CareTeam;
  teamIndex: ResourceIndex;
  ppcs?: CarePlan;
  goals: Goal[];
  protocols: CarePlan[];
  encounters: Encounter[];
  encounterIndex: ResourceIndex;
  tasks: Task[];
  conditions: Condition[];
}

/** The record from the batch's answers (the patient first; a failed search leaves its part empty). */
export function patientRecord(patient: Patient, [teams, plans, encounters, tasks, conditions]: (Bundle | undefined)[]): PatientRecord {
  const planList = matches(plans, 'CarePlan');
  // The PPCS in force: active first, then the most recently written.
  const ppcs = planList
    .filter(isPpcs)
    .filter((p) => p.status !== 'entered-in-error' && p.status !== 'revoked')
    .sort((a, b) => Number(b.status === 'active') - Number(a.status === 'active') || (b.meta?.lastUpdated ?? '').localeCompare(a.meta?.lastUpdated ?? ''))[0];
  return {
    patient,
    careTeam: matches(teams, 'CareTeam')[0],
    teamIndex: new ResourceIndex(teams),
    ppcs,
    goals: new ResourceIndex(plans).all('Goal'),
    protocols: planList.filter((p) => !isPpcs(p) && p.instantiatesCanonical?.length),
    encounters: matches(encounters, 'Encounter'),
    encounterIndex: new ResourceIndex(encounters),
    tasks: matches(tasks, 'Task'),
    conditions: matches(conditions, 'Condition'),
  };
}

export interface TimelineItem {
  id: string;
  date: string;
  kind: string;
  what: string;
  where: string;
  status: string;
}

const ENCOUNTER_STATUS: Record<string, string> = {
  planned: 'programmé',
  arrived: 'arrivé',
  triaged: 'orienté',
  'in-progress': 'en cours',
  onleave: 'en permission',
  finished: 'terminé',
  cancelled: 'annulé',
};

/** City and hospital encounters, newest first, as the timeline shows them. */
export function timeline(r: PatientRecord): TimelineItem[] {
  return r.encounters
    .map((e) => {
      const hospital = e.class?.code === 'IMP';
      const concertation = e.type?.some((t) => t.coding?.some((c) => c.code === 'concertation-pluripro'));
      const period = [frenchDate(e.period?.start), e.period?.end && hospital ? frenchDate(e.period.end) : ''].filter(Boolean).join(' → ');
      return {
        id: e.id as string,
        date: e.period?.start ?? '',
        kind: concertation ? 'Concertation' : hospital ? 'Hôpital' : 'Ville',
        what: [e.type?.map(codeText).join(', '), e.reasonCode?.map(codeText).join(', ')].filter(Boolean).join(' — ') + (period ? ` (${period})` : ''),
        where: r.encounterIndex.get('Organization', e.serviceProvider)?.name ?? refText(e.serviceProvider),
        status: ENCOUNTER_STATUS[e.status] ?? e.status,
      };
    })
    .sort((a, b) => b.date.localeCompare(a.date));
}

export interface AccessRow {
  when: string;
  who: string;
  action: string;
  outcome: string;
}

const ACTIONS: Record<string, string> = { C: 'Création', R: 'Consultation', U: 'Modification', D: 'Suppression', E: 'Exécution' };
/** FHIR interactions (AuditEvent.subtype, restful-interaction) as a person says them. */
const INTERACTIONS: Record<string, string> = {
  read: 'Consultation',
  vread: 'Consultation d’une version',
  'search-type': 'Recherche',
  'search-system': 'Recherche',
  search: 'Recherche',
  'history-instance': 'Historique',
  create: 'Création',
  update: 'Modification',
  patch: 'Modification',
  delete: 'Suppression',
  operation: 'Opération',
  batch: 'Lot de requêtes',
  transaction: 'Transaction',
};

/** The access log of the record (AuditEvent, TDE style), with the roles of the agents the search included. */
/** How close in time the accesses of one person, of one kind, are told as one: a view's batch of searches is one look at the record. */
const SAME_LOOK_MS = 60_000;

/**
 * The accesses to a record, newest first, as a person reads them: what one view did at once (its
 * batch's searches, each its own AuditEvent) on one line, with how many requests it made.
 */
export function accessRows(bundle: Bundle | undefined): AccessRow[] {
  const rows: (AccessRow & { count: number })[] = [];
  for (const row of eachAccess(bundle)) {
    const last = rows[rows.length - 1];
    const close = last && Math.abs(Date.parse(last.when) - Date.parse(row.when)) <= SAME_LOOK_MS;
    if (close && last.who === row.who && last.action === row.action && last.outcome === row.outcome) last.count++;
    else rows.push({ ...row, count: 1 });
  }
  return rows.map(({ count, ...row }) => (count > 1 ? { ...row, action: `${row.action} (${count} requêtes)` } : row));
}

function eachAccess(bundle: Bundle | undefined): AccessRow[] {
  const index = new ResourceIndex(bundle);
  return matches(bundle, 'AuditEvent').map((a: AuditEvent) => {
    const agent = a.agent?.find((x) => x.requestor) ?? a.agent?.[0];
    const role = index.get('PractitionerRole', agent?.who);
    const person = role ? [role.practitioner?.display, role.organization?.display].filter(Boolean).join(', ') : '';
    const breakGlass =
      a.purposeOfEvent?.some((p) => p.coding?.some((c) => c.code === 'BTG')) || agent?.purposeOfUse?.some((p) => p.coding?.some((c) => c.code === 'BTG'));
    const interaction = a.subtype?.map((s) => s.code && INTERACTIONS[s.code]).find(Boolean);
    return {
      when: a.recorded,
      who: person || agent?.who?.display || agent?.name || refText(agent?.who) || 'Inconnu',
      action: `${interaction ?? (a.action && ACTIONS[a.action]) ?? 'Accès'}${breakGlass ? ' — accès en urgence (bris de glace)' : ''}`,
      outcome: a.outcome && a.outcome !== '0' ? 'Échec' : 'Réussi',
    };
  });
}

export const accessQuery = (id: string, today: Date) =>
  `AuditEvent?patient=${encodeURIComponent(`Patient/${id}`)}&date=ge${isoDay(today, -365)}&_sort=-date&_include=AuditEvent:agent&_count=100`;
