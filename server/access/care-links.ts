import type { CareTeam, Consent, ConsentProvision, Patient, Period, Reference, Resource } from '@medplum/fhirtypes';
import { parseLocalReference } from '../fhir/ids.js';
import { dateRange } from '../search/dates.js';
import type { CareLink } from '../store/care-links.js';

/** The types whose resources say who may see a patient's data; their links are rewritten with them. */
const LINK_TYPES = new Set(['CareTeam', 'Consent', 'Patient']);

/** `Type/id` of what a reference names here (a version names its resource), undefined for anything else. */
function local(ref: Reference | undefined, fhirBase: string): string | undefined {
  const parsed = typeof ref?.reference === 'string' ? parseLocalReference(ref.reference, fhirBase) : undefined;
  return parsed && `${parsed.type}/${parsed.id}`;
}

/**
 * The patient a CareTeam (`subject`) or Consent (`patient`) links people to, as careLinks reads
 * it; undefined when it names none (or another type), or for other types. What checks a link
 * write must read the patient here, on the resource as stored.
 */
export function linkedPatient(resource: Resource | null | undefined, fhirBase: string): string | undefined {
  const ref =
    resource?.resourceType === 'CareTeam' ? (resource as CareTeam).subject : resource?.resourceType === 'Consent' ? (resource as Consent).patient : undefined;
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
