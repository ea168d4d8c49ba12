import type { Bundle, Parameters, ParametersParameter, Patient, Reference } from '@medplum/fhirtypes';
import { matches, ResourceIndex } from './bundle.js';
import { codeText, patientName } from './format.js';

export const MONTHS = ['janv.', 'févr.', 'mars', 'avr.', 'mai', 'juin', 'juil.', 'août', 'sept.', 'oct.', 'nov.', 'déc.'];

export interface Figure {
  name: string;
  label: string;
  value: number;
  /** The search listing what the figure counts (`Type?params`), as the user may see it. */
  list: string;
}

/** The CPTS's figures of soins non programmés (server/agendas/snp-figures.ts). */
export interface SnpFigures {
  requests: number;
  answered: number;
  within48h: number;
  /** Percent of the requests seen within 48 h; absent without requests. */
  shareWithin48h?: number;
  medianDelayHours?: number;
}

export interface AciFigures {
  figures: Figure[];
  snp: SnpFigures;
  patientsReviewed: number;
  /** Concertation cases per month, January first. */
  months: number[];
}

/**
 * The answer of the server's `$aci-indicators` (DOMAIN.md §3.3 G): the pôle's figures, counted
 * over all its data whoever asks, where searches under the user's équipe de soins would count
 * only the patients the user cares for.
 */
export function aciFromParameters(parameters: Parameters): AciFigures {
  const all = parameters.parameter ?? [];
  const part = (p: ParametersParameter, name: string) => p.part?.find((x) => x.name === name);
  const months = new Array<number>(12).fill(0);
  for (const p of all.filter((x) => x.name === 'casesByMonth')) months[(part(p, 'month')?.valueInteger ?? 1) - 1] = part(p, 'value')?.valueInteger ?? 0;
  return {
    figures: all
      .filter((p) => p.name === 'figure')
      .map((p) => ({
        name: part(p, 'name')?.valueString ?? '',
        label: part(p, 'label')?.valueString ?? '',
        value: part(p, 'value')?.valueInteger ?? 0,
        list: part(p, 'list')?.valueString ?? '',
      })),
    patientsReviewed: all.find((p) => p.name === 'patientsReviewed')?.valueInteger ?? 0,
    snp: snpOf(all.find((p) => p.name === 'snp')),
    months,
  };
}

/** One item a figure counts, as its list shows it. */
export interface FigureRow {
  id: string;
  when?: string;
  what: string;
  patients: { id: string; name: string }[];
}

/** The search of the items behind a figure, with their patients. */
export function figureListQuery(figure: Figure): string {
  const type = figure.list.split('?')[0];
  const include = type === 'Appointment' ? 'Appointment:patient' : `${type}:subject`;
  return `${figure.list}&_include=${include}&_count=500`;
}

/** The items of a figure's list: what, when, for whom. */
export function figureRows(bundle: Bundle | undefined): FigureRow[] {
  const index = new ResourceIndex(bundle);
  const patientsOf = (refs: (Reference | undefined)[]) =>
    refs
      .filter((r): r is Reference => !!r?.reference?.startsWith('Patient/'))
      .map((r) => ({ id: r.reference?.slice(8) ?? '', name: patientName((index.get('Patient', r) as Patient | undefined)?.name) }));
  const rows = [...matches(bundle, 'CarePlan'), ...matches(bundle, 'Encounter'), ...matches(bundle, 'Appointment')].map((r): FigureRow => {
    if (r.resourceType === 'CarePlan')
      return { id: r.id as string, when: r.period?.start, what: r.title ?? codeText(r.category?.[0]), patients: patientsOf([r.subject]) };
    if (r.resourceType === 'Encounter') return { id: r.id as string, when: r.period?.start, what: codeText(r.type?.[0]), patients: patientsOf([r.subject]) };
    return { id: r.id as string, when: r.start, what: r.description ?? codeText(r.serviceType?.[0]), patients: patientsOf(r.participant.map((p) => p.actor)) };
  });
  return rows.sort((a, b) => (a.when ?? '').localeCompare(b.when ?? ''));
}

function snpOf(p: ParametersParameter | undefined): SnpFigures {
  const part = (name: string) => p?.part?.find((x) => x.name === name);
  return {
    requests: part('requests')?.valueInteger ?? 0,
    answered: part('answered')?.valueInteger ?? 0,
    within48h: part('within48h')?.valueInteger ?? 0,
    shareWithin48h: part('shareWithin48h')?.valueDecimal,
    medianDelayHours: part('medianDelayHours')?.valueDecimal,
  };
}
