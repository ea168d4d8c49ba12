import type { Task } from '@medplum/fhirtypes';
import { useState } from 'preact/hooks';
import { saveTransaction } from '../fhir/bundle.js';
import type { FhirError } from '../fhir/http.js';
import { useMe } from './context.js';
import { asFhirError } from './states.js';

/** Take on a request of the pôle, or close one of mine: written If-Match, a concurrent change is reported. */
export function TaskActions({ task, onDone }: { task: Task; onDone: () => void }) {
  const me = useMe();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<FhirError>();
  const mine = task.owner?.reference === me.role.reference;
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
  return (
    <span class="actions">
      {mine ? (
        <button type="button" disabled={busy} onClick={() => save({ ...task, status: 'completed' })}>
          Terminer
        </button>
      ) : (
        <button type="button" disabled={busy} onClick={() => save({ ...task, status: 'accepted', owner: me.role })}>
          Prendre en charge
        </button>
      )}
      {error && (
        <span role="alert" class="inline-error">
          {error.conflict ? 'Modifiée entre-temps par quelqu’un d’autre : rechargez la liste.' : error.message}
        </span>
      )}
    </span>
  );
}
