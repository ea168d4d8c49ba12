import { useMe } from '../context.js';
import { batchAnswers, batchOf } from '../../fhir/bundle.js';
import { frenchDate } from '../../fhir/format.js';
import { OPEN_STATUSES, taskRows, type TaskRow } from '../../fhir/tasks.js';
import { Due, PatientLink } from '../common.js';
import { PagedTable, type Column } from '../Paged.js';
import { TaskActions } from '../TaskActions.js';
import { LiveFeed } from '../LiveFeed.js';
import { Empty, ErrorBox, Show, useLoad, useReady } from '../states.js';
import { FhirError, frenchMessage } from '../../fhir/http.js';

const columns = (withOwner: boolean, reload: () => void): Column<TaskRow>[] => [
  { header: 'Échéance', cell: (r) => <Due row={r} /> },
  { header: 'Patient', cell: (r) => <PatientLink patient={r.patient} /> },
  { header: 'Demande', cell: (r) => r.what },
  { header: 'Statut', cell: (r) => r.status },
  { header: withOwner ? 'Adressée à' : 'Demandée par', cell: (r) => (withOwner ? r.owner : r.requester) || '—', secondary: true },
  { header: 'Créée le', cell: (r) => frenchDate(r.authoredOn), secondary: true },
  { header: 'Action', cell: (r) => <TaskActions task={r.task} onDone={reload} /> },
];

/** Worklist: my open tasks and the pôle's unassigned requests, overdue first (DOMAIN.md §3.3 A). */
export function Worklist() {
  const me = useMe();
  const loaded = useLoad(async () => {
    const open = OPEN_STATUSES.join(',');
    const owners = me.structures.map((o) => `Organization/${o.id}`).join(',');
    const reply = await me.session.fhir.post(
      '',
      batchOf([
        `Task?owner=${encodeURIComponent(me.role.reference ?? '')}&status=${open}&_include=Task:patient&_count=200`,
        // What I asked of others and is not done yet (a discharge nurse's follow-ups, issue 27).
        `Task?requester=${encodeURIComponent(me.role.reference ?? '')}&status=${open}&_include=Task:patient&_count=200`,
        ...(owners ? [`Task?owner=${encodeURIComponent(owners)}&status=requested&_include=Task:patient&_include=Task:requester&_count=200`] : []),
      ]),
    );
    const [mine, asked, pole] = batchAnswers(reply);
    if (!mine.ok) throw new FhirError(mine.status, frenchMessage(mine.status));
    return {
      mine: taskRows(mine.bundle, me.today),
      asked: asked.ok ? taskRows(asked.bundle, me.today).filter((r) => r.task.owner?.reference !== me.role.reference) : [],
      pole: pole?.ok ? taskRows(pole.bundle, me.today) : [],
      poleError: pole && !pole.ok ? pole.status : undefined,
    };
  }, []);
  useReady('travail', loaded.state === 'ok');
  return (
    <section aria-labelledby="h-travail">
      <h1 id="h-travail">Ma liste de travail</h1>
      {/* Outside what reloads: the feed stays open while the tables are fetched again. */}
      <LiveFeed onChange={(type) => type === 'Task' && loaded.reload()} />
      <Show loaded={loaded} what="de vos tâches">
        {({ mine, asked, pole, poleError }) => (
          <>
            <p class="summary">
              {mine.filter((r) => r.overdue).length} tâche(s) en retard sur {mine.length} ouverte(s) ; {pole.length} demande(s) non attribuée(s) au pôle.
            </p>
            {mine.length ? (
              <PagedTable caption="Mes tâches ouvertes" rows={mine} columns={columns(false, loaded.reload)} rowClass={(r) => (r.overdue ? 'overdue' : '')} />
            ) : (
              <Empty>Aucune tâche ouverte ne vous est adressée.</Empty>
            )}
            {asked.length > 0 && (
              <>
                <h2>Mes demandes en cours</h2>
                <PagedTable
                  caption="Demandes que j’ai faites, pas encore terminées"
                  rows={asked}
                  columns={columns(true, loaded.reload)}
                  rowClass={(r) => (r.overdue ? 'overdue' : '')}
                />
              </>
            )}
            <h2>Demandes non attribuées du pôle</h2>
            {poleError ? (
              <ErrorBox error={new FhirError(poleError, frenchMessage(poleError))} />
            ) : pole.length ? (
              <PagedTable
                caption="Demandes adressées aux structures du pôle"
                rows={pole}
                columns={columns(true, loaded.reload)}
                rowClass={(r) => (r.overdue ? 'overdue' : '')}
              />
            ) : (
              <Empty>Aucune demande en attente d’attribution.</Empty>
            )}
          </>
        )}
      </Show>
    </section>
  );
}
