import type { CarePlan } from '@medplum/fhirtypes';
import type { ComponentChildren } from 'preact';
import { useState } from 'preact/hooks';
import { frenchDate, isoDay } from '../fhir/format.js';
import type { FhirError } from '../fhir/http.js';
import { careTeamMembers } from '../fhir/patient.js';
import type { PatientRecord } from '../fhir/record.js';
import type { useMe } from './context.js';
import { asFhirError } from './states.js';

/** The people a form may name: the active members of the cercle de soins, and me. */
export function teamChoices(r: PatientRecord, me: ReturnType<typeof useMe>): { reference: string; label: string }[] {
  const members = r.careTeam ? careTeamMembers(r.careTeam, r.teamIndex, isoDay(me.today)).filter((m) => m.active && m.reference) : [];
  const choices = members.map((m) => ({ reference: m.reference as string, label: `${m.name} — ${m.roles}` }));
  if (me.role.reference && !choices.some((c) => c.reference === me.role.reference)) choices.push({ reference: me.role.reference, label: `${me.name} (moi)` });
  return choices;
}

/** A form's save: busy while writing, the error (a concurrent edit told apart) after. */
export function useSave() {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<FhirError>();
  const run = async (write: () => Promise<unknown>, done: () => void) => {
    setBusy(true);
    setError(undefined);
    try {
      await write();
      done();
    } catch (err) {
      setError(asFhirError(err));
    } finally {
      setBusy(false);
    }
  };
  return { busy, error, run };
}

/** What the user is told when someone else wrote first: who changed it, when, and that nothing was overwritten. */
export function ConflictNotice({ current, children }: { current?: CarePlan | { meta?: CarePlan['meta'] }; children?: ComponentChildren }) {
  return (
    <div class="state error conflict" role="alert">
      <p>
        <strong>Modification concurrente :</strong> ces données ont été modifiées par quelqu’un d’autre pendant votre saisie
        {current?.meta?.lastUpdated && ` (version ${current.meta.versionId} du ${frenchDate(current.meta.lastUpdated)})`}. Votre saisie n’a pas été enregistrée
        et rien n’a été écrasé.
      </p>
      {children}
    </div>
  );
}

export const FormActions = ({ busy, cancel, label }: { busy: boolean; cancel: string; label: string }) => (
  <p class="form-actions">
    <button type="submit" class="primary" disabled={busy}>
      {busy ? 'Enregistrement…' : label}
    </button>{' '}
    <a href={cancel}>Annuler</a>
  </p>
);
