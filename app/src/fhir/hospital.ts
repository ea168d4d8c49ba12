import type { Bundle, Encounter } from '@medplum/fhirtypes';
import { matches, ResourceIndex } from './bundle.js';
import { codeText, patientName, refText } from './format.js';
import { isCoordinationCode } from './tasks.js';

export interface StayRow {
  id: string;
  encounter: Encounter;
  patient: { id: string; name: string };
  service: string;
  start?: string;
  end?: string;
  reason: string;
  /** Discharges: whether a post-discharge follow-up task exists. */
  followUp?: boolean;
}

/** Hospital stays of an Encounter search with its subjects, service providers (and follow-up tasks) included. */
export function stayRows(bundle: Bundle | undefined): StayRow[] {
  const index = new ResourceIndex(bundle);
  const tasks = index.all('Task').filter((t) => isCoordinationCode(t, 'suivi-post-hospitalisation'));
  return matches(bundle, 'Encounter')
    .map((e): StayRow => {
      const patient = index.get('Patient', e.subject);
      const service = index.get('Organization', e.serviceProvider);
      return {
        id: e.id as string,
        encounter: e,
        patient: { id: e.subject?.reference?.split('/')[1] ?? '', name: patient ? patientName(patient.name) : refText(e.subject) },
        service: service?.name ?? refText(e.serviceProvider),
        start: e.period?.start,
        end: e.period?.end,
        reason: e.reasonCode?.map(codeText).join(', ') ?? '',
        ...(e.status === 'finished' ? { followUp: tasks.some((t) => t.focus?.reference === `Encounter/${e.id}`) } : {}),
      };
    })
    .sort((a, b) => (a.start ?? '').localeCompare(b.start ?? ''));
}
