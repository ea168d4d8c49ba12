import type { Bundle, Encounter, ParametersParameter, PlanDefinition } from '@medplum/fhirtypes';
import { visibilityOf } from '../access/principal.js';
import { snpFigures, snpParameter } from '../agendas/snp-figures.js';
import { badRequest, fail } from '../fhir/outcome.js';
import { SYSTEM } from '../fhir/vocabulary.js';
import { bodyOf, type Context, type FhirRequest, type FhirResponse } from '../interactions/context.js';
import { search } from '../interactions/search.js';
import { operationInput, outputParameters } from './parameters.js';

/** One figure: its name, label, and the search that lists what it counts (for the app to open). */
interface Figure {
  name: string;
  label: string;
  type: string;
  query: string;
}

const coord = (code: string) => encodeURIComponent(`${SYSTEM.coordination}|${code}`);
const HELD = 'status=active,completed';

/**
 * The ACI figures of a year (DOMAIN.md §3.3 G) as searches: PPCS in force during the year, the
 * concertations held (not those planned), the cases they reviewed, and the patients included in
 * each protocol during the year. (The CPTS's figures of soins non programmés: agendas/snp-figures.ts.) `date` on a Period matches those overlapping the bounds.
 */
export function aciFigures(year: number, protocols: PlanDefinition[]): Figure[] {
  const within = `date=ge${year}-01-01&date=lt${year + 1}-01-01`;
  return [
    { name: 'ppcs', label: 'PPCS actifs', type: 'CarePlan', query: `category=${coord('ppcs')}&${HELD}&${within}` },
    {
      name: 'meetings',
      label: 'Réunions de concertation tenues',
      type: 'Appointment',
      query: `service-type=${coord('concertation-pluripro')}&status=fulfilled&${within}`,
    },
    { name: 'cases', label: 'Dossiers revus en concertation', type: 'Encounter', query: `type=${coord('concertation-pluripro')}&status=finished&${within}` },
    ...protocols.map((p) => ({
      name: `protocol:${p.id}`,
      label: `Patients inclus — ${(p.title ?? p.name ?? '').split(' — ').pop()}`,
      type: 'CarePlan',
      query: `instantiates-canonical=${encodeURIComponent(p.url ?? '')}&${HELD}&${within}`,
    })),
  ];
}

/**
 * `GET|POST [base]/$aci-indicators?year=YYYY`: the pôle's ACI figures, computed over all the pôle's
 * data whoever asks, so that they are the pôle's and not the caller's équipe's. Counts only (and
 * the cases per month): no patient's data goes out. For a user acting for a record-holding
 * structure of the pôle (the MSP's coordinators), a system client of the whole pôle, or AUTH=off.
 */
export async function aciIndicatorsOperation(ctx: Context, req: FhirRequest): Promise<FhirResponse> {
  const visibility = await visibilityOf(ctx);
  if (visibility && !visibility.actors?.some((a) => visibility.recordHolders.includes(a))) {
    throw fail(403, 'forbidden', 'The ACI indicators are for the coordinators of a record-holding structure of the pôle');
  }
  const input = operationInput(req);
  const year = input.integer('year') ?? new Date().getFullYear();
  if (year < 2000 || year > 2100) throw badRequest(`year out of range: ${year}`);
  // The pôle's data, past the équipe-de-soins rules: only counts leave.
  const all: Context = { ...ctx, access: undefined };
  const run = async (type: string, query: string) =>
    bodyOf(await search(all, { method: 'GET', path: [type], query: new URLSearchParams(query), prefer: {} }, type)) as Bundle;
  const protocols = ((await run('PlanDefinition', 'status=active&_count=100')).entry ?? []).map((e) => e.resource as PlanDefinition);
  const figures = aciFigures(year, protocols);
  const counts = await Promise.all(figures.map(async (f) => (await run(f.type, `${f.query}&_summary=count`)).total ?? 0));
  const snp = await snpFigures(run, year);
  const cases = figures.find((f) => f.name === 'cases') as Figure;
  const months = new Array<number>(12).fill(0);
  const patients = new Set<string>();
  for (let url: string | undefined = `${cases.query}&_elements=subject,period&_count=500`; url; ) {
    const page = await run('Encounter', url);
    for (const e of page.entry ?? []) {
      const encounter = e.resource as Encounter;
      const start = encounter.period?.start;
      if (start?.startsWith(String(year))) months[Number(start.slice(5, 7)) - 1]++;
      if (encounter.subject?.reference) patients.add(encounter.subject.reference);
    }
    const next = page.link?.find((l) => l.relation === 'next')?.url;
    url = next ? new URL(next).search.slice(1) : undefined;
  }
  const figure = (f: Figure, value: number): ParametersParameter => ({
    name: 'figure',
    part: [
      { name: 'name', valueString: f.name },
      { name: 'label', valueString: f.label },
      { name: 'value', valueInteger: value },
      { name: 'list', valueString: `${f.type}?${f.query}` },
    ],
  });
  return {
    status: 200,
    resource: outputParameters([
      { name: 'year', valueInteger: year },
      ...figures.map((f, i) => figure(f, counts[i])),
      { name: 'patientsReviewed', valueInteger: patients.size },
      snpParameter(snp, year),
      ...months.map((n, i) => ({
        name: 'casesByMonth',
        part: [
          { name: 'month', valueInteger: i + 1 },
          { name: 'value', valueInteger: n },
        ],
      })),
    ]),
  };
}
