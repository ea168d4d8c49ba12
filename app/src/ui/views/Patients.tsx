import { matches } from '../../fhir/bundle.js';
import { frenchDate, patientName } from '../../fhir/format.js';
import { patientSearchQuery } from '../../fhir/patient.js';
import { useMe } from '../context.js';
import { PagedTable } from '../Paged.js';
import { patientHref } from '../router.js';
import { Empty, Show, useLoad, useReady } from '../states.js';

/** Patients of the pôle found by name (family and given in any order, without case or accents), birth date, INS or identifier, to open a record. */
export function Patients({ name }: { name: string }) {
  const me = useMe();
  const loaded = useLoad(() => me.session.fhir.get(patientSearchQuery(name)), [name]);
  useReady('patients', loaded.state === 'ok');
  return (
    <section aria-labelledby="h-patients">
      <h1 id="h-patients">Patients : « {name} »</h1>
      <Show loaded={loaded} what="des patients">
        {(bundle) => {
          const rows = matches(bundle, 'Patient');
          return rows.length ? (
            <PagedTable
              caption="Patients trouvés"
              rows={rows}
              columns={[
                { header: 'Nom', cell: (p) => <a href={patientHref(p.id as string)}>{patientName(p.name)}</a> },
                { header: 'Date de naissance', cell: (p) => frenchDate(p.birthDate) },
                { header: 'Commune', cell: (p) => p.address?.[0]?.city ?? '—', secondary: true },
              ]}
            />
          ) : (
            <Empty>
              Aucun patient de votre équipe de soins ne correspond (nom et prénom dans n’importe quel ordre, date de naissance, INS ou identifiant).
            </Empty>
          );
        }}
      </Show>
    </section>
  );
}
