import type { Binary, Bundle, Library, Parameters, PractitionerRole, Reference, Task } from '@medplum/fhirtypes';
import { RECALL_TEMPLATE_URL } from '../../../server/letters/template.js';
import { matches } from './bundle.js';
import { base64ToText, textToBase64 } from './format.js';
import type { DueRow } from './followup.js';
import { newTask } from './tasks.js';

/** The search of the pôle's recall letter template: its latest active version. */
export const TEMPLATE_SEARCH = `Library?url=${encodeURIComponent(RECALL_TEMPLATE_URL)}&status=active&_sort=-_lastUpdated&_count=1`;

/** The input of the server's `CarePlan/$recall-letters`: a letter per row, as a PDF or a mail-merge CSV. */
export function recallParameters(rows: DueRow[], format: 'pdf' | 'csv'): Parameters {
  return {
    resourceType: 'Parameters',
    parameter: [
      { name: 'format', valueCode: format },
      ...rows.map((r) => ({
        name: 'recall',
        part: [
          { name: 'plan', valueReference: { reference: `CarePlan/${r.plan}` } },
          { name: 'activity', valueInteger: r.activityIndex },
        ],
      })),
    ],
  };
}

/** A Binary's content as a file to save. */
export function binaryBlob(binary: Binary): Blob {
  const bytes = Uint8Array.from(atob(binary.data ?? ''), (c) => c.charCodeAt(0));
  return new Blob([bytes], { type: binary.contentType });
}

export const templateOf = (bundle: Bundle | undefined) => matches(bundle, 'Library')[0];

/** The template's text (its text/plain content), if any. */
export function templateText(library: Library | undefined): string | undefined {
  const data = library?.content?.find((c) => c.contentType?.startsWith('text/plain'))?.data;
  return data === undefined ? undefined : base64ToText(data);
}

/** The pôle's template with a new text: the version read, or a new Library. */
export function withText(library: Library | undefined, text: string): Library {
  const data = textToBase64(text);
  return {
    ...(library ?? {
      resourceType: 'Library',
      url: RECALL_TEMPLATE_URL,
      name: 'CourrierDeRelance',
      title: 'Courrier de relance',
      type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/library-type', code: 'asset-collection' }] },
    }),
    status: 'active',
    date: new Date().toISOString(),
    content: [{ contentType: 'text/plain; charset=utf-8', title: 'Courrier de relance', data }],
  };
}

/** The reminder of a due activity: a task of mine, due when the activity is, about its plan. */
export function reminderTask(row: DueRow, me: Reference<PractitionerRole>, now: Date): Task {
  return newTask({
    patient: { reference: `Patient/${row.patientId}`, display: row.patient },
    kind: '',
    description: reminderText(row),
    focus: { reference: `CarePlan/${row.plan}` },
    owner: me,
    requester: me,
    due: row.due,
    now,
  });
}

export const reminderText = (row: DueRow) => `Rappel : ${row.activity} (${row.protocol})`;
