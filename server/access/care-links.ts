import type { CareTeam, Consent, ConsentProvision, Encounter, Patient, Period, Reference, Resource } from '@medplum/fhirtypes';
import { parseLocalReference } from '../fhir/ids.js';
import { dateRange } from '../search/dates.js';
import type { CareLink } from '../store/care-links.js';

/** The types whose resources say who may see a patient's data; their links are rewritten with them. */
const LINK_TYPES = new Set(['CareTeam', 'Consent', 'Encounter', 'Patient']);

/** `Type/id` of what a reference names here (a version names its resource), undefined for anything else. */
function local(ref: Reference | undefined, fhirBase: string): string | undefined {
  const parsed = typeof ref?.reference === 'string' ? parseLocalReference(ref.reference, fhirBase) : undefined;
  return parsed && `${parsed.type}/${parsed.id}`;
}

/** The reference naming the patient a resource of the link types links people to. */
function patientReference(resource: Resource | null | undefined): Reference | undefined {
  switch (resource?.resourceType) {
    case 'CareTeam':
      return resource.subject;
    case 'Encounter':
      return resource.subject;
    case 'Consent':
      return resource.patient;
    default:
      return undefined;
  }
}

/**
 * The patient a CareTeam or Encounter (`subject`) or Consent (`patient`) links people to, as
 * careLinks reads it; undefined when it names none (or another type), or for other types. What
 * checks a link write must read the patient here, on the resource as stored.
 */
export function linkedPatient(resource: Resource | null | undefined, fhirBase: string): string | undefined {
  const ref = patientReference(resource);
  const named = local(ref, fhirBase);
  return named?.startsWith('Patient/') ? named.slice('Patient/'.length) : undefined;
}

/**
 * The care links a resource states (see migration 006): the participants and managing
 * organisations of an active CareTeam, the managing organisation of a Patient, the oppositions
 * (`deny`) and consents to share (`permit` with an actor) of an active Consent. Undefined for
 * other types; an empty list removes the links a resource had.
 */
export function careLinks(resource: Resource | null, type: string, fhirBase: string): CareLink[] | undefined {
  if (!LINK_TYPES.has(type)) return undefined;
  if (!resource) return [];
  if (resource.resourceType === 'Patient') {
    const p = resource as Patient;
    const holder = local(p.managingOrganization, fhirBase);
    return holder && p.id ? [{ patient: p.id, kind: 'holder', actor: holder, ...period(undefined) }] : [];
  }
  if (resource.resourceType === 'CareTeam') {
    const team = resource as CareTeam;
    const patient = linkedPatient(team, fhirBase);
    if (team.status !== 'active' || !patient) return [];
    const links: CareLink[] = [];
    for (const p of team.participant ?? []) {
      const actor = local(p.member, fhirBase);
      const pcp = p.role?.some((r) => r.coding?.some((c) => c.code === 'PCP'));
      if (actor) links.push({ patient, kind: pcp ? 'pcp' : 'member', actor, ...within(period(p.period), period(team.period)) });
    }
    for (const o of team.managingOrganization ?? []) {
      const actor = local(o, fhirBase);
      if (actor) links.push({ patient, kind: 'holder', actor, ...period(team.period) });
    }
    return links;
  }
  if (resource.resourceType === 'Encounter') return stayLinks(resource as Encounter, fhirBase);
  const consent = resource as Consent;
  const patient = linkedPatient(consent, fhirBase);
  if (consent.status !== 'active' || !patient || !consent.provision) return [];
  const links: CareLink[] = [];
  const provisions: [ConsentProvision, boolean][] = [
    [consent.provision, true],
    ...(consent.provision.provision ?? []).map((p): [ConsentProvision, boolean] => [p, false]),
  ];
  for (const [prov, top] of provisions) {
    const actors = (prov.actor ?? []).flatMap((a) => local(a.reference, fhirBase) ?? []);
    // A deny without actor at the top is the global opposition; deeper, it restricts some data only.
    if (prov.type === 'deny' && !actors.length && top) links.push({ patient, kind: 'deny', actor: '*', ...period(prov.period) });
    if (prov.type === 'deny' || prov.type === 'permit') {
      for (const actor of actors) links.push({ patient, kind: prov.type, actor, ...period(prov.period) });
    }
  }
  return links;
}

/** Days after a stay's end its structure keeps its patient: the discharge's follow-up (the hospital view's discharges, the tasks it asked for). */
export const STAY_FOLLOW_UP_DAYS = 30;
/** A stay that is or will be: its structure holds the record of it until it ends. */
const ONGOING = new Set(['planned', 'arrived', 'triaged', 'in-progress', 'onleave']);

/**
 * A stay (an Encounter) links its patient to the structure that holds its record, its
 * `serviceProvider` (CSP L1110-12: who works in the same establishment), as a `holder` link: only
 * a record-holding organisation (RECORD_HOLDERS) gets access by it. From its recording while it
 * is planned or under way, until STAY_FOLLOW_UP_DAYS after its end; a cancelled or erroneous one,
 * never.
 */
function stayLinks(encounter: Encounter, fhirBase: string): CareLink[] {
  const patient = linkedPatient(encounter, fhirBase);
  const actor = local(encounter.serviceProvider, fhirBase);
  if (!patient || !actor?.startsWith('Organization/')) return [];
  if (ONGOING.has(encounter.status)) return [{ patient, kind: 'holder', actor, ...OPEN }];
  if (encounter.status !== 'finished') return [];
  const ended = period(encounter.period).until;
  const last = ended === OPEN.until ? period({ end: encounter.period?.start }).until : ended;
  if (last === OPEN.until) return [];
  return [{ patient, kind: 'holder', actor, start: OPEN.start, until: new Date(Date.parse(last) + STAY_FOLLOW_UP_DAYS * 86_400_000).toISOString() }];
}

const OPEN = { start: '-infinity', until: 'infinity' };

/** A FHIR Period as [start, until): from the first instant of its start to the last of its end. */
function period(p: Period | undefined): { start: string; until: string } {
  const start = p?.start ? dateRange(p.start)?.low.toISOString() : undefined;
  const end = p?.end ? dateRange(p.end)?.high : undefined;
  return { start: start ?? OPEN.start, until: end ? new Date(end.getTime() + 1).toISOString() : OPEN.until };
}

/** The part of a participant's period within the team's. */
function within(a: { start: string; until: string }, b: { start: string; until: string }) {
  const t = (s: string) => (s === '-infinity' ? -Infinity : s === 'infinity' ? Infinity : Date.parse(s));
  return { start: t(a.start) >= t(b.start) ? a.start : b.start, until: t(a.until) <= t(b.until) ? a.until : b.until };
}
