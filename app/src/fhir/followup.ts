import type { Bundle, PlanDefinition } from '@medplum/fhirtypes';
import { matches, ResourceIndex } from './bundle.js';
import { codeText, daysFrom, patientName, refText } from './format.js';

export interface DueRow {
  /** The CarePlan's id and the activity's index in it: what a recall letter names. */
  plan: string;
  activityIndex: number;
  patientId: string;
  patient: string;
  birthDate?: string;
  protocol: string;
  activity: string;
  due: string;
  dueIn: number;
  performer: string;
}

/** The protocol a CarePlan instantiates: canonicals may carry a `|version`. */
export const protocolOf = (canonical: string, protocols: PlanDefinition[]) => protocols.find((p) => canonical.split('|')[0] === p.url);

/**
 * The activities of protocol care plans (CarePlan.instantiatesCanonical) due within `days` days:
 * those whose scheduled start falls between today and then, or that started and are not over.
 */
export function dueActivities(bundle: Bundle | undefined, protocols: PlanDefinition[], today: Date, days = 30): DueRow[] {
  const index = new ResourceIndex(bundle);
  const rows: DueRow[] = [];
  for (const plan of matches(bundle, 'CarePlan')) {
    const protocol = plan.instantiatesCanonical?.map((c) => protocolOf(c, protocols)).find(Boolean);
    if (!protocol) continue;
    const patient = index.get('Patient', plan.subject);
    for (const [i, a] of (plan.activity ?? []).entries()) {
      const d = a.detail;
      const due = d?.scheduledPeriod?.start ?? d?.scheduledString;
      if (!d || !due || !['not-started', 'scheduled', 'in-progress'].includes(d.status)) continue;
      const dueIn = daysFrom(today, due);
      const stillOpen = d.scheduledPeriod?.end ? daysFrom(today, d.scheduledPeriod.end) >= 0 : dueIn >= 0;
      if (dueIn > days || !stillOpen) continue;
      rows.push({
        plan: plan.id as string,
        activityIndex: i,
        patientId: plan.subject?.reference?.split('/')[1] ?? '',
        patient: patient ? patientName(patient.name) : refText(plan.subject),
        birthDate: patient?.birthDate,
        protocol: protocol.title ?? protocol.name ?? '',
        activity: d.description ?? codeText(d.code),
        due: due.slice(0, 10),
        dueIn,
        performer: d.performer?.map(refText).join(', ') ?? '',
      });
    }
  }
  return rows.sort((a, b) => a.due.localeCompare(b.due) || a.patient.localeCompare(b.patient));
}
