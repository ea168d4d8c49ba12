import type { Task } from '@medplum/fhirtypes';
import { useState } from 'preact/hooks';
import { saveTransaction } from '../fhir/bundle.js';
import { closedTask } from '../fhir/tasks.js';
import type { FhirError } from '../fhir/http.js';
import { useMe } from './context.js';
import { asFhirError } from './states.js';

/**
 * Take on a request addressed to my structure (or to nobody), or close one of mine with its outcome (Task.output): written
 * If-Match, a concurrent change is reported. Without a role (AUTH=off, no user), nothing is taken
 * on: there is nobody to own it.
 */
export function TaskActions({ task, onDone }: { task: Task; onDone: () => void }) {
  const me = useMe();
  const [busy, setBusy] = useState(false);
  const [closing, setClosing] = useState(false);
  const [outcome, setOutcome] = useState('');
  const [error, setError] = useState<FhirError>();
  const role = me.role.reference ? me.role : undefined;
  const mine = !!role && task.owner?.reference === role.reference;
  // A request addressed to a structure is taken on by one of its own (a DAC's by the DAC); one
  // addressed to nobody, by anyone of the pôle.
  const owner = task.owner?.reference;
  const mayTake = !!role && (!owner || (!!me.organization && owner === `Organization/${me.organization.id}`));
  const save = async (changed: Task) => {
    setBusy(true);
    setError(undefined);
    try {
      await me.session.fhir.post('', saveTransaction(changed));
      onDone();
    } catch (err) {
      setError(asFhirError(err));
    } finally {
      setBusy(false);
    }
  };
  const close = (e: Event) => {
    e.preventDefault();
    void save(closedTask(task, outcome, new Date()));
  };
  return (
    <span class="actions">
      {mine && closing ? (
        <form class="close-task" onSubmit={close}>
          <label>
            Résultat <input value={outcome} required onInput={(e) => setOutcome(e.currentTarget.value)} placeholder="ex. : consultation faite le 12/03" />
          </label>
          <button type="submit" disabled={busy}>
            Clore la tâche
          </button>
          <button type="button" class="secondary" onClick={() => setClosing(false)}>
            Annuler
          </button>
        </form>
      ) : mine ? (
        <button type="button" disabled={busy} onClick={() => setClosing(true)}>
          Terminer
        </button>
      ) : mayTake && role ? (
        <button type="button" disabled={busy} onClick={() => save({ ...task, status: 'accepted', owner: role })}>
          Prendre en charge
        </button>
      ) : owner?.startsWith('Organization/') ? (
        <span class="muted">À prendre en charge par {task.owner?.display ?? 'sa structure'}</span>
      ) : null}
      {error && (
        <span role="alert" class="inline-error">
          {error.conflict ? 'Modifiée entre-temps par quelqu’un d’autre : rechargez la liste.' : error.message}
        </span>
      )}
    </span>
  );
}
