import { base, Faker, fr } from '@faker-js/faker';
import type { Resource } from '@medplum/fhirtypes';
import { demoAgendas } from '../agendas.js';
import { makePatient } from '../patients.js';
import { Calendar, concertations, DEFAULT_QUOTAS, makePathway, PROTOCOLS, type PathwaySummary } from '../pathways.js';
import { DEMO_POLE, ORGANIZATIONS, PRACTITIONER_ROLES, PRACTITIONERS } from './territory.js';

export const DEMO_PATIENTS = 200;
const SEED = 2026;

/**
 * The demo pôle de santé: the structures and professionals of the Val-de-Lys and ~200 patients
 * with their pathways, dated around `today` (so that "in hospital now" stays true), and the GPs'
 * agendas with slots from `today` over three days (seed/agendas.ts). The same day
 * gives the same data.
 */
export function buildDemo(today: Date = startOfDay(new Date())): Resource[] {
  const f = new Faker({ locale: [fr, base], seed: SEED });
  const cal = new Calendar(today);
  const quotas = { ...DEFAULT_QUOTAS };
  const resources: Resource[] = [...ORGANIZATIONS, ...PRACTITIONERS, ...PRACTITIONER_ROLES, ...PROTOCOLS];
  const summaries: PathwaySummary[] = [];
  for (let i = 1; i <= DEMO_PATIENTS; i++) {
    const patient = makePatient(f, `pat-${String(i).padStart(4, '0')}`, i, DEMO_POLE.communes, today);
    const { resources: pathway, summary } = makePathway(f, patient, cal, quotas, DEMO_POLE);
    resources.push(patient.resource, ...pathway);
    summaries.push(summary);
  }
  resources.push(...concertations(f, summaries, cal, quotas, DEMO_POLE));
  resources.push(...demoAgendas(DEMO_POLE, today));
  return resources;
}

export function startOfDay(d: Date): Date {
  return new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate()));
}
