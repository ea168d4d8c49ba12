import type { Bundle, PlanDefinition } from '@medplum/fhirtypes';
import { SYSTEM } from '../../../server/fhir/vocabulary.js';
import { matches } from './bundle.js';

const coord = (code: string) => `${SYSTEM.coordination}|${code}`;

export interface CountQuery {
  key: string;
  label: string;
  url: string;
}

/** The ACI counts of a year (DOMAIN.md §3.3 G), each a `_summary=count` search. */
export function aciCountQueries(year: number, protocols: PlanDefinition[]): CountQuery[] {
  const within = (param: string) => `${param}=ge${year}-01-01&${param}=lt${year + 1}-01-01`;
  return [
    { key: 'ppcs', label: 'PPCS actifs', url: `CarePlan?category=${encodeURIComponent(coord('ppcs'))}&status=active&_summary=count` },
    {
      key: 'meetings',
      label: 'Réunions de concertation',
      url: `Appointment?service-type=${encodeURIComponent(coord('concertation-pluripro'))}&${within('date')}&_summary=count`,
    },
    {
      key: 'cases',
      label: 'Dossiers revus en concertation',
      url: `Encounter?type=${encodeURIComponent(coord('concertation-pluripro'))}&${within('date')}&_summary=count`,
    },
    ...protocols.map((p) => ({
      key: `protocol:${p.id}`,
      label: `Patients inclus — ${(p.title ?? p.name ?? '').split(' — ').pop()}`,
      url: `CarePlan?instantiates-canonical=${encodeURIComponent(p.url ?? '')}&${within('date')}&_summary=count`,
    })),
  ];
}

/** The cases of the year with their subject and date only: per month, and distinct patients. */
export const concertationCasesQuery = (year: number) =>
  `Encounter?type=${encodeURIComponent(coord('concertation-pluripro'))}&date=ge${year}-01-01&date=lt${year + 1}-01-01&_elements=subject,period&_count=1000`;

export const MONTHS = ['janv.', 'févr.', 'mars', 'avr.', 'mai', 'juin', 'juil.', 'août', 'sept.', 'oct.', 'nov.', 'déc.'];

export function casesByMonth(bundle: Bundle | undefined): { months: number[]; patients: number } {
  const months = new Array<number>(12).fill(0);
  const patients = new Set<string>();
  for (const e of matches(bundle, 'Encounter')) {
    const start = e.period?.start;
    if (start) months[Number(start.slice(5, 7)) - 1]++;
    if (e.subject?.reference) patients.add(e.subject.reference);
  }
  return { months, patients: patients.size };
}
