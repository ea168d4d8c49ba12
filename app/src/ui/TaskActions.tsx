import type { Task } from '@medplum/fhirtypes';
import { useState } from 'preact/hooks';
import { saveTransaction } from '../fhir/bundle.js';
import { closedTask } from '../fhir/tasks.js';
import type { FhirError } from '../fhir/http.js';
import { useMe } from './context.js';
import { asFhirError } from './states.js';

/**
 * Take on a request of the pôle, or close one of mine with its outcome (Task.output): written
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
      ) : role ? (
        <button type="button" disabled={busy} onClick={() => save({ ...task, status: 'accepted', owner: role })}>
          Prendre en charge
        </button>
      ) : null}
      {error && (
        <span role="alert" class="inline-error">
          {error.conflict ? 'Modifiée entre-temps par quelqu’un d’autre : rechargez la liste.' : error.message}
        </span>
      )}
    </span>
  );
}
