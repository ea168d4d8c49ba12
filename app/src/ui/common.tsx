import { frenchDate } from '../fhir/format.js';
import type { TaskRow } from '../fhir/tasks.js';
import { patientHref } from './router.js';

export const PatientLink = ({ patient }: { patient?: { id: string; name: string } }) =>
  patient ? <a href={patientHref(patient.id)}>{patient.name}</a> : <span>—</span>;

/** A due date with how far it is, overdue ones marked in words (not only in colour). */
export function Due({ row }: { row: Pick<TaskRow, 'due' | 'dueIn' | 'overdue'> }) {
  if (!row.due) return <span class="muted">sans échéance</span>;
  const days = row.dueIn ?? 0;
  const when = days === 0 ? 'aujourd’hui' : days > 0 ? `dans ${days} j` : `retard de ${-days} j`;
  return (
    <span class={row.overdue ? 'badge overdue' : undefined}>
      {frenchDate(row.due.slice(0, 10))} ({when})
    </span>
  );
}
