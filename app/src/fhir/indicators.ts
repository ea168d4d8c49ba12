import type { Parameters, ParametersParameter } from '@medplum/fhirtypes';

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
