import { useState } from 'preact/hooks';
import { saveTransaction } from '../../fhir/bundle.js';
import { codeText, isoDay } from '../../fhir/format.js';
import type { PatientRecord } from '../../fhir/record.js';
import { newTask, TASK_KINDS } from '../../fhir/tasks.js';
import { useMe } from '../context.js';
import { FormActions, teamChoices, useSave } from '../edit.js';
import { patientHref } from '../router.js';
import { ErrorBox } from '../states.js';
import { Banner } from './Banner.js';

/** Create a task about the patient and assign it to a member of the cercle de soins, a pôle structure, or me. */
export function TaskEditor({ record: r, onSaved }: { record: PatientRecord; onSaved: () => void }) {
  const me = useMe();
  const owners = [...teamChoices(r, me), ...me.structures.map((o) => ({ reference: `Organization/${o.id}`, label: `${o.name} (structure)` }))];
  const [kind, setKind] = useState(TASK_KINDS[0].key);
  const [description, setDescription] = useState('');
  const [owner, setOwner] = useState(me.role.reference ?? '');
  const [due, setDue] = useState(isoDay(me.today, 7));
  const save = useSave();
  const submit = (e: Event) => {
    e.preventDefault();
    const label = owners.find((o) => o.reference === owner)?.label.replace(/ — .*| \(moi\)| \(structure\)/, '');
    const task = newTask({
      patient: { reference: `Patient/${r.patient.id}` },
      kind,
      description,
      owner: { reference: owner, ...(label ? { display: label } : {}) },
      ...(me.role.reference ? { requester: me.role } : {}),
      ...(due ? { due } : {}),
      now: new Date(),
    });
    void save.run(() => me.session.fhir.post('', saveTransaction(task)), onSaved);
  };
  return (
    <article class="record">
      <Banner r={r} />
      <form class="editor" onSubmit={submit} aria-labelledby="h-edit-task">
        <h2 id="h-edit-task">Nouvelle tâche</h2>
        {save.error && <ErrorBox error={save.error} />}
        <div class="grid">
          <label>
            Type
            <select onChange={(e) => setKind(e.currentTarget.value)}>
              {TASK_KINDS.map((k) => (
                <option value={k.key} selected={k.key === kind}>
                  {codeText(k.code)}
                </option>
              ))}
            </select>
          </label>
          <label>
            Description
            <input required value={description} onInput={(e) => setDescription(e.currentTarget.value)} />
          </label>
          <label>
            Adressée à
            <select onChange={(e) => setOwner(e.currentTarget.value)}>
              {owners.map((o) => (
                <option value={o.reference} selected={o.reference === owner}>
                  {o.label}
                </option>
              ))}
            </select>
          </label>
          <label>
            Échéance
            <input type="date" value={due} onInput={(e) => setDue(e.currentTarget.value)} />
          </label>
        </div>
        <FormActions busy={save.busy} cancel={patientHref(r.patient.id as string)} label="Créer la tâche" />
      </form>
    </article>
  );
}
