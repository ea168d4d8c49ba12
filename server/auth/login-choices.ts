import type { Encounter, HumanName, Organization, Patient, PractitionerRole, Resource } from '@medplum/fhirtypes';
import type { Choice } from './login-flow.js';

/** The choices of the login pages, from what a search found: labels in French. */

const nameOf = (names: HumanName[] | undefined) => {
  const n = names?.[0];
  return n ? [n.prefix?.join(' '), n.given?.join(' '), n.family].filter(Boolean).join(' ') || n.text || '' : '';
};

/** 1940-02-03 as 03/02/1940; partial dates as they are. */
const frenchDate = (date: string) => date.split('-').reverse().join('/');

/** The active PractitionerRoles found, with their organisations (included). */
export function roleChoices(found: Resource[]): Choice[] {
  const orgs = new Map(found.filter((r): r is Organization => r.resourceType === 'Organization').map((o) => [`Organization/${o.id}`, o.name]));
  return found
    .filter((r): r is PractitionerRole => r.resourceType === 'PractitionerRole' && r.active !== false)
    .map((r) => {
      const what = r.code?.[0]?.text ?? r.code?.[0]?.coding?.[0]?.display ?? r.specialty?.[0]?.coding?.[0]?.display ?? 'Rôle';
      const where = (r.organization?.reference && orgs.get(r.organization.reference)) ?? r.organization?.display;
      return { id: r.id as string, label: where ? `${what} — ${where}` : what };
    });
}

export function patientChoices(found: Resource[]): Choice[] {
  return found
    .filter((r): r is Patient => r.resourceType === 'Patient')
    .map((p) => ({ id: p.id as string, label: [nameOf(p.name) || p.id, p.birthDate ? `né(e) le ${frenchDate(p.birthDate)}` : ''].filter(Boolean).join(', ') }));
}

export function encounterChoices(found: Resource[]): Choice[] {
  return found
    .filter((r): r is Encounter => r.resourceType === 'Encounter')
    .map((e) => {
      const what = e.type?.[0]?.text ?? e.type?.[0]?.coding?.[0]?.display ?? e.class?.display ?? e.class?.code ?? 'Rencontre';
      const when = e.period?.start ? `le ${frenchDate(e.period.start.slice(0, 10))}` : '';
      const where = e.serviceProvider?.display ?? '';
      return { id: e.id as string, label: [what, when, where].filter(Boolean).join(', ') };
    });
}
