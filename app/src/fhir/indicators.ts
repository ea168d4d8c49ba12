import type { Parameters, ParametersParameter } from '@medplum/fhirtypes';

export const MONTHS = ['janv.', 'févr.', 'mars', 'avr.', 'mai', 'juin', 'juil.', 'août', 'sept.', 'oct.', 'nov.', 'déc.'];

export interface Figure {
  name: string;
  label: string;
  value: number;
  /** The search listing what the figure counts (`Type?params`), as the user may see it. */
  list: string;
}

export interface AciFigures {
  figures: Figure[];
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
    months,
  };
}
