import type { Bundle } from '@medplum/fhirtypes';
import { useState } from 'preact/hooks';
import { alertsQuery, alertsTo, encounterAlert, stopAlerts } from '../../fhir/alerts.js';
import type { FhirError } from '../../fhir/http.js';
import { useMe } from '../context.js';
import { asFhirError, ErrorBox, Loading, useLoad } from '../states.js';

/** The coordinator's email alerts on the patient's stays: subscribe, see that she is, stop. */
export function PatientAlerts({ id }: { id: string }) {
  const me = useMe();
  const [email, setEmail] = useState(me.email ?? '');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<FhirError>();
  const loaded = useLoad(() => me.session.fhir.get<Bundle>(alertsQuery(id)), [id]);
  const act = async (write: () => Promise<unknown>) => {
    setBusy(true);
    setError(undefined);
    try {
      await write();
      loaded.reload();
    } catch (err) {
      setError(asFhirError(err));
    }
    setBusy(false);
  };
  const mine = loaded.state === 'ok' && email.trim() ? alertsTo(loaded.data, email.trim()) : [];
  return (
    <section aria-labelledby="h-alertes">
      <h2 id="h-alertes">Alertes par courriel</h2>
      {loaded.state === 'loading' ? (
        <Loading what="des alertes" />
      ) : loaded.state === 'error' ? (
        <ErrorBox error={loaded.error} retry={loaded.reload} />
      ) : mine.length ? (
        <p>
          <span class="badge ok">Alertes actives</span> à {email.trim()} : chaque séjour ou rencontre de ce patient (admission, sortie…), sans donnée de santé
          dans le message.{' '}
          <button type="button" disabled={busy} onClick={() => act(() => me.session.fhir.post('', stopAlerts(mine)))}>
            Arrêter les alertes
          </button>
        </p>
      ) : (
        <form
          class="inline"
          onSubmit={(e) => {
            e.preventDefault();
            if (email.trim()) act(() => me.session.fhir.post('Subscription', encounterAlert(id, email.trim())));
          }}
        >
          <label for="alert-email">Adresse de messagerie (MSSanté)</label>{' '}
          <input id="alert-email" type="email" required value={email} onInput={(e) => setEmail(e.currentTarget.value)} />{' '}
          <button type="submit" disabled={busy}>
            M’alerter des séjours hospitaliers
          </button>
        </form>
      )}
      {error && <ErrorBox error={error} />}
    </section>
  );
}
