import type { Bundle, CodeableConcept, Patient, Reference, Task } from '@medplum/fhirtypes';
import { COORDINATION, SYSTEM } from '../../../server/fhir/vocabulary.js';
import { matches, ResourceIndex } from './bundle.js';
import { codeText, daysFrom, parisInstant, patientName, refText } from './format.js';

export const OPEN_STATUSES = ['requested', 'received', 'accepted', 'ready', 'in-progress'] as const;

export const TASK_STATUS: Record<string, string> = {
  draft: 'Brouillon',
  requested: 'Demandée',
  received: 'Reçue',
  accepted: 'Acceptée',
  rejected: 'Refusée',
  ready: 'Prête',
  cancelled: 'Annulée',
  'in-progress': 'En cours',
  'on-hold': 'En attente',
  failed: 'Échouée',
  completed: 'Terminée',
  'entered-in-error': 'Saisie erronée',
};

/** The kinds of task a coordinator creates. */
export const TASK_KINDS: { key: string; code: CodeableConcept }[] = [
  { key: 'demande-appui', code: COORDINATION.demandeAppui },
  { key: 'suivi-post-hospitalisation', code: COORDINATION.suiviPostHospitalisation },
  { key: 'reevaluation-ppcs', code: COORDINATION.reevaluationPpcs },
  { key: 'concertation-pluripro', code: COORDINATION.concertation },
];

export interface TaskRow {
  task: Task;
  id: string;
  what: string;
  kind: string;
  status: string;
  patient?: { id: string; name: string };
  due?: string;
  /** Days until due; negative when overdue. */
  dueIn?: number;
  overdue: boolean;
  authoredOn?: string;
  requester: string;
  owner: string;
}

/** When a task is due: the end of its restriction period (FHIR's "fulfil by"), else of its execution period. */
export const dueDate = (t: Task) => t.restriction?.period?.end ?? t.executionPeriod?.end;

/** Rows of a task search (with its patients included): overdue first, then by due date, then oldest. */
export function taskRows(bundle: Bundle | undefined, today: Date, index = new ResourceIndex(bundle)): TaskRow[] {
  const rows = matches(bundle, 'Task').map((task): TaskRow => {
    const due = dueDate(task);
    const dueIn = due ? daysFrom(today, due) : undefined;
    const patient = index.get('Patient', task.for) as Patient | undefined;
    const open = (OPEN_STATUSES as readonly string[]).includes(task.status);
    return {
      task,
      id: task.id as string,
      what: task.description ?? codeText(task.code) ?? 'Tâche',
      kind: codeText(task.code),
      status: TASK_STATUS[task.status] ?? task.status,
      ...(task.for?.reference?.startsWith('Patient/')
        ? { patient: { id: task.for.reference.slice(8), name: patient ? patientName(patient.name) : refText(task.for) } }
        : {}),
      due,
      dueIn,
      overdue: open && dueIn !== undefined && dueIn < 0,
      authoredOn: task.authoredOn,
      requester: refText(task.requester),
      owner: refText(task.owner),
    };
  });
  const key = (r: TaskRow) => [r.overdue ? 0 : 1, r.due ?? '9999', r.authoredOn ?? ''];
  return rows.sort((a, b) => {
    const [x, y] = [key(a), key(b)];
    return x[0] !== y[0] ? (x[0] as number) - (y[0] as number) : String(x[1]).localeCompare(String(y[1])) || String(x[2]).localeCompare(String(y[2]));
  });
}

export interface NewTask {
  patient: Reference<Patient>;
  kind: string;
  description: string;
  owner: NonNullable<Task['owner']>;
  /** Who asks: the user's role (none without a user, AUTH=off). */
  requester?: Task['requester'];
  due?: string;
  focus?: Reference;
  now: Date;
}

/** A new coordination task, requested of its owner. */
export function newTask(n: NewTask): Task {
  const kind = TASK_KINDS.find((k) => k.key === n.kind);
  return {
    resourceType: 'Task',
    status: 'requested',
    intent: 'order',
    ...(kind ? { code: kind.code } : {}),
    description: n.description,
    for: n.patient,
    ...(n.focus ? { focus: n.focus } : {}),
    ...(n.requester ? { requester: n.requester } : {}),
    owner: n.owner,
    authoredOn: n.now.toISOString(),
    // Due by 18:00 in Paris on the day chosen.
    ...(n.due ? { restriction: { period: { end: parisInstant(n.due, '18:00') } } } : {}),
  };
}

export const isCoordinationCode = (t: Task, code: string) => !!t.code?.coding?.some((c) => c.system === SYSTEM.coordination && c.code === code);

/** A task closed with its outcome: completed, the outcome as its output, its execution ended now. */
export function closedTask(task: Task, outcome: string, now: Date): Task {
  return {
    ...task,
    status: 'completed',
    output: [...(task.output ?? []), { type: { text: 'Résultat' }, valueString: outcome.trim() }],
    executionPeriod: { ...task.executionPeriod, end: now.toISOString() },
  };
}
