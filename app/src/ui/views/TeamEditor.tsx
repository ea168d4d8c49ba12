import type { Bundle, CareTeam } from '@medplum/fhirtypes';
import { useState } from 'preact/hooks';
import { TEAM_ROLE } from '../../../../server/fhir/vocabulary.js';
import { saveTransaction } from '../../fhir/bundle.js';
import { directoryRows, directorySearches, type DirectoryRow } from '../../fhir/directory.js';
import { isoDay, patientName } from '../../fhir/format.js';
import { withMember } from '../../fhir/patient.js';
import type { PatientRecord } from '../../fhir/record.js';
import { useMe } from '../context.js';
import { ConflictNotice, FormActions, useSave } from '../edit.js';
import { patientHref } from '../router.js';
import { asFhirError, Empty, ErrorBox } from '../states.js';
import { Banner } from './Banner.js';
import type { FhirError } from '../../fhir/http.js';

const ROLES = {
  professionnel: TEAM_ROLE.professionnel,
  medecinTraitant: TEAM_ROLE.medecinTraitant,
  referent: TEAM_ROLE.referent,
  coordinateur: TEAM_ROLE.coordinateur,
};

/** Add a professional to the cercle de soins (found in the directory), written If-Match the team's version. */
export function TeamEditor({ record: r, onSaved }: { record: PatientRecord; onSaved: () => void }) {
  const me = useMe();
  const [name, setName] = useState('');
  const [found, setFound] = useState<DirectoryRow[]>();
  const [searchError, setSearchError] = useState<FhirError>();
  const [member, setMember] = useState<DirectoryRow>();
  const [role, setRole] = useState<keyof typeof ROLES>('professionnel');
  const [start, setStart] = useState(isoDay(me.today));
  const save = useSave();
  const search = async (e: Event) => {
    e.preventDefault();
    setSearchError(undefined);
    const { roles } = directorySearches({ name, commune: '', identifier: '' });
    if (!roles) return setFound([]);
    try {
      setFound(directoryRows(await me.session.fhir.get<Bundle>(roles), undefined));
    } catch (err) {
      setSearchError(asFhirError(err));
    }
  };
  const submit = (e: Event) => {
    e.preventDefault();
    if (!member) return;
    const team: CareTeam = r.careTeam ?? {
      resourceType: 'CareTeam',
      status: 'active',
      name: `Cercle de soins de ${patientName(r.patient.name)}`,
      subject: { reference: `Patient/${r.patient.id}` },
      period: { start },
      ...(me.organization ? { managingOrganization: [{ reference: `Organization/${me.organization.id}`, display: me.organization.name }] } : {}),
    };
    void save.run(
      () => me.session.fhir.post('', saveTransaction(withMember(team, { reference: member.reference, display: member.name }, [ROLES[role]], start))),
      onSaved,
    );
  };
  const cancel = patientHref(r.patient.id as string);
  return (
    <article class="record">
      <Banner r={r} />
      <section class="editor" aria-labelledby="h-edit-team">
        <h2 id="h-edit-team">Ajouter un membre au cercle de soins</h2>
        <form onSubmit={search} role="search" class="inline">
          <label>
            Nom du professionnel
            <input value={name} required minLength={2} onInput={(e) => setName(e.currentTarget.value)} />
          </label>{' '}
          <button type="submit">Rechercher dans l’annuaire</button>
        </form>
        {searchError && <ErrorBox error={searchError} />}
        {found && !found.length && <Empty>Aucun professionnel de ce nom dans l’annuaire.</Empty>}
        <form onSubmit={submit}>
          {found && found.length > 0 && (
            <fieldset>
              <legend>Professionnel</legend>
              {found.map((f) => (
                <label class="check">
                  <input type="radio" name="member" checked={member?.reference === f.reference} onChange={() => setMember(f)} /> {f.name} — {f.what} — {f.where}
                </label>
              ))}
            </fieldset>
          )}
          <div class="grid">
            <label>
              Rôle dans le cercle
              <select onChange={(e) => setRole(e.currentTarget.value as keyof typeof ROLES)}>
                {Object.entries(ROLES).map(([k, c]) => (
                  <option value={k} selected={k === role}>
                    {c.text}
                  </option>
                ))}
              </select>
            </label>
            <label>
              À partir du
              <input type="date" required value={start} onInput={(e) => setStart(e.currentTarget.value)} />
            </label>
          </div>
          {save.error?.conflict ? <ConflictNotice /> : save.error && <ErrorBox error={save.error} />}
          {!member && <p class="muted">Recherchez puis choisissez un professionnel.</p>}
          <FormActions busy={save.busy || !member} cancel={cancel} label="Ajouter au cercle de soins" />
        </form>
      </section>
    </article>
  );
}
