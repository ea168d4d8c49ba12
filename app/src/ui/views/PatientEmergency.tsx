import type { Parameters } from '@medplum/fhirtypes';
import { useState } from 'preact/hooks';
import { breakGlassRequest, breakGlassUntil } from '../../fhir/consent.js';
import type { FhirError } from '../../fhir/http.js';
import { useMe } from '../context.js';
import { asFhirError, ErrorBox } from '../states.js';

/** The emergency accesses granted in this tab, by patient (kept over a reload): the record is marked while they last. */
const key = (id: string) => `maillage:break-glass:${id}`;

export function emergencyAccess(id: string): { until: string; reason: string } | undefined {
  try {
    const g = JSON.parse(sessionStorage.getItem(key(id)) ?? 'null');
    return g && Date.parse(g.until) > Date.now() ? g : undefined;
  } catch {
    return undefined;
  }
}

const parisTime = (instant: string) => new Date(instant).toLocaleTimeString('fr-FR', { timeZone: 'Europe/Paris', hour: '2-digit', minute: '2-digit' });

/** A record refused (outside the user's équipe de soins, or opposed): the emergency access, with its reason. */
export function Refused({ id, error, onGranted }: { id: string; error: FhirError; onGranted: () => void }) {
  const me = useMe();
  const [reason, setReason] = useState('');
  const [busy, setBusy] = useState(false);
  const [failed, setFailed] = useState<FhirError>();
  const breakGlass = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    try {
      const reply = await me.session.fhir.post<Parameters>(`Patient/${encodeURIComponent(id)}/$break-glass`, breakGlassRequest(reason));
      const until = breakGlassUntil(reply);
      if (until) sessionStorage.setItem(key(id), JSON.stringify({ until, reason: reason.trim() }));
      onGranted();
    } catch (err) {
      setFailed(asFhirError(err));
      setBusy(false);
    }
  };
  return (
    <article class="refused">
      <ErrorBox error={error} />
      <form class="break-glass" onSubmit={breakGlass}>
        <h2>Accès d’urgence (bris de glace)</h2>
        <p>En cas d’urgence, vous pouvez ouvrir ce dossier pour un temps limité. Le motif est enregistré, l’accès est tracé et sera revu.</p>
        <label>
          Motif de l’accès d’urgence
          <textarea required value={reason} onInput={(e) => setReason(e.currentTarget.value)} />
        </label>
        <button type="submit" class="primary" disabled={busy || !reason.trim()}>
          Accéder en urgence
        </button>
        {failed && <ErrorBox error={failed} />}
      </form>
    </article>
  );
}

/** The mark of a record opened by break-glass, while the access lasts. */
export function EmergencyMark({ id }: { id: string }) {
  const g = emergencyAccess(id);
  if (!g) return null;
  return (
    <p class="emergency" role="status">
      <strong>Accès d’urgence (bris de glace)</strong> jusqu’à {parisTime(g.until)} — motif : {g.reason}. Cet accès est tracé et sera revu.
    </p>
  );
}
