import { useState } from 'preact/hooks';
import { SYSTEM } from '../../../../server/fhir/vocabulary.js';
import { batchAnswers, batchOf, refTo, saveTransaction } from '../../fhir/bundle.js';
import { frenchDate, isoDay } from '../../fhir/format.js';
import { stayRows, type StayRow } from '../../fhir/hospital.js';
import { FhirError, frenchMessage } from '../../fhir/http.js';
import { newTask } from '../../fhir/tasks.js';
import { useMe } from '../context.js';
import { PatientLink } from '../common.js';
import { PagedTable, type Column } from '../Paged.js';
import { asFhirError, Empty, ErrorBox, Show, useLoad, useReady } from '../states.js';

const IMP = encodeURIComponent(`${SYSTEM.actCode}|IMP`);

const base: Column<StayRow>[] = [
  { header: 'Patient', cell: (r) => <PatientLink patient={r.patient} /> },
  { header: 'Service', cell: (r) => r.service },
  { header: 'Motif', cell: (r) => r.reason || '—', secondary: true },
];

/** Hospital pathways: in hospital now, planned admissions (14 days), discharges of the last 7 days (§3.3 B). */
export function Hospital() {
  const me = useMe();
  const loaded = useLoad(async () => {
    const reply = await me.session.fhir.post(
      '',
      batchOf([
        `Encounter?class=${IMP}&status=in-progress&_include=Encounter:subject&_include=Encounter:service-provider&_count=200`,
        `Encounter?class=${IMP}&status=planned&date=ge${isoDay(me.today)}&date=le${isoDay(me.today, 14)}&_include=Encounter:subject&_include=Encounter:service-provider&_count=200`,
        `Encounter?class=${IMP}&status=finished&date=ge${isoDay(me.today, -7)}&_include=Encounter:subject&_include=Encounter:service-provider&_revinclude=Task:focus&_count=200`,
      ]),
    );
    return batchAnswers(reply).map((a) => (a.ok ? stayRows(a.bundle) : new FhirError(a.status, frenchMessage(a.status))));
  }, []);
  useReady('hopital', loaded.state === 'ok');
  return (
    <section aria-labelledby="h-hopital">
      <h1 id="h-hopital">Parcours hospitaliers</h1>
      <Show loaded={loaded} what="des séjours">
        {([now, planned, discharged]) => (
          <>
            <Part
              title="Hospitalisés en ce moment"
              rows={now}
              empty="Aucun patient de votre équipe de soins n’est hospitalisé en ce moment."
              columns={[...base, { header: 'Entré(e) le', cell: (r) => frenchDate(r.start) }]}
            />
            <Part
              title="Admissions programmées (14 jours)"
              rows={planned}
              empty="Aucune admission programmée dans les 14 jours pour les patients de votre équipe de soins."
              columns={[...base, { header: 'Admission prévue le', cell: (r) => frenchDate(r.start) }]}
            />
            <Part
              title="Sorties des 7 derniers jours"
              rows={Array.isArray(discharged) ? [...discharged].sort((a, b) => Number(a.followUp) - Number(b.followUp)) : discharged}
              empty="Aucune sortie dans les 7 derniers jours pour les patients de votre équipe de soins."
              columns={[
                ...base,
                { header: 'Sorti(e) le', cell: (r) => frenchDate(r.end) },
                { header: 'Suivi', cell: (r) => (r.followUp ? <span class="badge ok">Suivi prévu</span> : <FollowUpButton row={r} onDone={loaded.reload} />) },
              ]}
              rowClass={(r) => (r.followUp ? '' : 'flagged')}
            />
          </>
        )}
      </Show>
    </section>
  );
}

function Part({
  title,
  rows,
  empty,
  columns,
  rowClass,
}: {
  title: string;
  rows: StayRow[] | FhirError;
  empty: string;
  columns: Column<StayRow>[];
  rowClass?: (r: StayRow) => string;
}) {
  return (
    <>
      <h2>{title}</h2>
      {rows instanceof FhirError ? (
        <ErrorBox error={rows} />
      ) : rows.length ? (
        <PagedTable caption={title} rows={rows} columns={columns} rowClass={rowClass} />
      ) : (
        <Empty>{empty}</Empty>
      )}
    </>
  );
}

/** A discharge without follow-up is flagged; one click creates the follow-up task, assigned to me. */
function FollowUpButton({ row, onDone }: { row: StayRow; onDone: () => void }) {
  const me = useMe();
  const [error, setError] = useState<FhirError>();
  const [busy, setBusy] = useState(false);
  const create = async () => {
    setBusy(true);
    try {
      const task = newTask({
        patient: { reference: `Patient/${row.patient.id}`, display: row.patient.name },
        kind: 'suivi-post-hospitalisation',
        description: 'Consultation de suivi dans les 7 jours après la sortie',
        focus: refTo(row.encounter),
        owner: me.role,
        requester: me.role,
        due: isoDay(new Date(row.end ?? me.today.toISOString()), 7),
        now: new Date(),
      });
      await me.session.fhir.post('', saveTransaction(task));
      onDone();
    } catch (err) {
      setError(asFhirError(err));
      setBusy(false);
    }
  };
  return (
    <span class="actions">
      <span class="badge overdue">Sans suivi</span>{' '}
      <button type="button" onClick={create} disabled={busy}>
        Créer la tâche de suivi
      </button>
      {error && (
        <span role="alert" class="inline-error">
          {error.message}
        </span>
      )}
    </span>
  );
}
