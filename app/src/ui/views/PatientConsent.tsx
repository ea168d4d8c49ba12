import type { Bundle, Consent } from '@medplum/fhirtypes';
import { useState } from 'preact/hooks';
import { saveTransaction } from '../../fhir/bundle.js';
import { consentQuery, oppositionConsent, oppositions, withdrawn, type Opposition } from '../../fhir/consent.js';
import { frenchDate, refText } from '../../fhir/format.js';
import type { FhirError } from '../../fhir/http.js';
import type { Member } from '../../fhir/patient.js';
import { useMe } from '../context.js';
import { asFhirError, Empty, ErrorBox, Loading, useLoad } from '../states.js';

/** Who an opposition may name: the professionals and structures of the cercle de soins. */
const OPPOSABLE = /^(PractitionerRole|Practitioner|Organization)\//;

/**
 * The patient's oppositions in force (Consent) and their editor: record one, global or towards
 * members of the cercle de soins, or withdraw one. Any change reloads the whole record, whose
 * visibility it may change.
 */
export function Oppositions({ id, members, onChanged }: { id: string; members: Member[]; onChanged: () => void }) {
  const me = useMe();
  const loaded = useLoad(() => me.session.fhir.get<Bundle>(consentQuery(id)), [id]);
  const [global, setGlobal] = useState(false);
  const [picked, setPicked] = useState<string[]>([]);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<FhirError>();
  const candidates = members.filter((m) => m.active && m.reference && OPPOSABLE.test(m.reference));
  const nameOf = (o: Opposition) =>
    candidates.find((m) => m.reference === o.actor?.reference)?.name ?? members.find((m) => m.reference === o.actor?.reference)?.name ?? refText(o.actor);
  const save = async (consent: Consent, question: string) => {
    if (!confirm(question)) return;
    setBusy(true);
    setError(undefined);
    try {
      await me.session.fhir.post('', saveTransaction(consent));
      onChanged();
    } catch (err) {
      setError(asFhirError(err));
      setBusy(false);
    }
  };
  const record = () => {
    const actors = global ? [] : picked.map((reference) => ({ reference }));
    if (!global && !actors.length) return;
    const who = global
      ? 'à tout partage (seul le médecin traitant garde l’accès ; vous pourriez perdre le vôtre)'
      : `envers ${picked.map((r) => candidates.find((m) => m.reference === r)?.name).join(', ')}`;
    return save(oppositionConsent(id, actors, new Date().toISOString()), `Enregistrer l’opposition du patient ${who} ?`);
  };
  return (
    <section aria-labelledby="h-opposition">
      <h2 id="h-opposition">Consentement et oppositions</h2>
      {loaded.state === 'loading' ? (
        <Loading what="des oppositions" />
      ) : loaded.state === 'error' ? (
        <ErrorBox error={loaded.error} retry={loaded.reload} />
      ) : (
        <>
          {oppositions(loaded.data).length ? (
            <ul class="oppositions">
              {oppositions(loaded.data).map((o) => (
                <li>
                  <span class="badge warn">
                    {o.actor ? `Opposition envers ${nameOf(o)}` : 'Opposition à tout partage : seul le médecin traitant garde l’accès'}
                  </span>
                  {o.since && ` depuis le ${frenchDate(o.since)}`}{' '}
                  <button type="button" disabled={busy} onClick={() => save(withdrawn(o), 'Le patient retire cette opposition : enregistrer ?')}>
                    Retirer l’opposition
                  </button>
                </li>
              ))}
            </ul>
          ) : (
            <Empty>Aucune opposition : le patient accepte le partage au sein de son équipe de soins.</Empty>
          )}
          <details class="opposition-editor">
            <summary>Enregistrer une opposition du patient</summary>
            <fieldset>
              <legend>Le patient s’oppose</legend>
              <label class="check">
                <input type="radio" name="opposition" checked={global} onChange={() => setGlobal(true)} /> à tout partage de son dossier
              </label>
              <label class="check">
                <input type="radio" name="opposition" checked={!global} onChange={() => setGlobal(false)} /> au partage avec certains membres du cercle de soins
                :
              </label>
              {candidates.map((m) => (
                <label class="check indent">
                  <input
                    type="checkbox"
                    disabled={global}
                    checked={picked.includes(m.reference as string)}
                    onChange={(e) => setPicked(e.currentTarget.checked ? [...picked, m.reference as string] : picked.filter((r) => r !== m.reference))}
                  />{' '}
                  {m.name} — {m.roles}
                </label>
              ))}
            </fieldset>
            <button type="button" class="primary" disabled={busy || (!global && !picked.length)} onClick={record}>
              Enregistrer l’opposition
            </button>
          </details>
          {error && <ErrorBox error={error} />}
        </>
      )}
    </section>
  );
}
