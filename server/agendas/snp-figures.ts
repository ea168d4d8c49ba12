import type { Appointment, Bundle, ParametersParameter } from '@medplum/fhirtypes';
import { COORDINATION, SYSTEM } from '../fhir/vocabulary.js';

/** Runs a search of the pôle's data (past the équipe-de-soins rules: only counts leave). */
export type Searcher = (type: string, query: string) => Promise<Bundle>;

const HOUR = 3_600_000;

/** The statuses of a request that got an appointment (the patient was given a time, whether or not they came). */
const ANSWERED = new Set<Appointment['status']>(['booked', 'arrived', 'fulfilled', 'checked-in', 'noshow']);

/**
 * The search listing a year's requests for soins non programmés: the Appointments the régulateur
 * made for them (`$book` with `serviceCategory` soins-non-programmes), booked or not (a request
 * no slot answered is an Appointment `proposed`, without a slot), by `created`, the time the
 * request was taken.
 */
export const snpRequestsQuery = (year: number) =>
  `service-category=${encodeURIComponent(`${SYSTEM.coordination}|${COORDINATION.soinsNonProgrammes.coding?.[0].code}`)}&created=ge${year}-01-01&created=lt${year + 1}-01-01`;

export interface SnpFigures {
  requests: number;
  answered: number;
  within48h: number;
  /** Median hours from the request to the appointment's start, over the answered requests. */
  medianDelayHours?: number;
}

/**
 * The CPTS's figures of access to care for a year: requests, those answered with an appointment,
 * those whose appointment starts within 48 hours of the request, the median delay. A request
 * entered in error is not one.
 */
export async function snpFigures(run: Searcher, year: number): Promise<SnpFigures> {
  const delays: number[] = [];
  let requests = 0;
  for (let query: string | undefined = `${snpRequestsQuery(year)}&_elements=status,start,created&_count=500`; query; ) {
    const page = await run('Appointment', query);
    for (const e of page.entry ?? []) {
      const a = e.resource as Appointment;
      if (a.resourceType !== 'Appointment' || a.status === 'entered-in-error') continue;
      requests++;
      const asked = a.created ? Date.parse(a.created) : Number.NaN;
      const seen = a.start ? Date.parse(a.start) : Number.NaN;
      if (ANSWERED.has(a.status) && Number.isFinite(asked) && Number.isFinite(seen)) delays.push(Math.max(0, seen - asked) / HOUR);
    }
    const next = page.link?.find((l) => l.relation === 'next')?.url;
    query = next ? new URL(next).search.slice(1) : undefined;
  }
  delays.sort((a, b) => a - b);
  const middle = delays.length / 2;
  return {
    requests,
    answered: delays.length,
    within48h: delays.filter((d) => d <= 48).length,
    ...(delays.length ? { medianDelayHours: round(delays.length % 2 ? delays[Math.floor(middle)] : (delays[middle - 1] + delays[middle]) / 2) } : {}),
  };
}

const round = (x: number) => Math.round(x * 10) / 10;

/** The figures as the `snp` output parameter of `$aci-indicators`. */
export function snpParameter(f: SnpFigures, year: number): ParametersParameter {
  return {
    name: 'snp',
    part: [
      { name: 'requests', valueInteger: f.requests },
      { name: 'answered', valueInteger: f.answered },
      { name: 'within48h', valueInteger: f.within48h },
      ...(f.requests ? [{ name: 'shareWithin48h', valueDecimal: round((100 * f.within48h) / f.requests) }] : []),
      ...(f.medianDelayHours !== undefined ? [{ name: 'medianDelayHours', valueDecimal: f.medianDelayHours }] : []),
      { name: 'list', valueString: `Appointment?${snpRequestsQuery(year)}` },
    ],
  };
}
