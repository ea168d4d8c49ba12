import type { Bundle, Patient as FhirPatient } from '@medplum/fhirtypes';
import { useState } from 'preact/hooks';
import { saveTransaction } from '../../fhir/bundle.js';
import { codeText, frenchDate, isoDay, refText } from '../../fhir/format.js';
import { FhirError, frenchMessage } from '../../fhir/http.js';
import { careTeamMembers, withMemberEnded, type Member } from '../../fhir/patient.js';
import { ACHIEVEMENT, ACTIVITY_STATUS, PLAN_STATUS } from '../../fhir/ppcs.js';
import { accessQuery, accessRows, patientRecord, recordQueries, timeline, type PatientRecord } from '../../fhir/record.js';
import { taskRows } from '../../fhir/tasks.js';
import { batchOf } from '../../fhir/bundle.js';
import { Due } from '../common.js';
import { useMe } from '../context.js';
import { PagedTable } from '../Paged.js';
import { patientHref } from '../router.js';
import { asFhirError, Empty, ErrorBox, Loading, Show, useLoad, useReady } from '../states.js';
import { TaskActions } from '../TaskActions.js';
import { Banner } from './Banner.js';
import { Oppositions } from './PatientConsent.js';
import { PatientAlerts } from './PatientAlerts.js';
import { EmergencyMark, emergencyAccess, Refused } from './PatientEmergency.js';
import { PpcsEditor } from './PpcsEditor.js';
import { TaskEditor } from './TaskEditor.js';
import { TeamEditor } from './TeamEditor.js';

/** The patient's record: identity, cercle de soins, PPCS, encounters, tasks, access log; and its edits. */
export function PatientView({ id, edit }: { id: string; edit?: 'ppcs' | 'equipe' | 'tache' }) {
  const me = useMe();
  const loaded = useLoad(async () => {
    const reply = await me.session.fhir.post('', batchOf(recordQueries(id)));
    const [first, ...rest] = reply.entry ?? [];
    const status = Number.parseInt(first?.response?.status ?? '500', 10);
    if (status >= 300 || first?.resource?.resourceType !== 'Patient') throw new FhirError(status, frenchMessage(status));
    return patientRecord(
      first.resource as FhirPatient,
      rest.map((e) => (e.resource?.resourceType === 'Bundle' ? (e.resource as Bundle) : undefined)),
    );
  }, [id]);
  useReady('patient', loaded.state === 'ok' && !edit);
  const back = () => {
    location.hash = patientHref(id);
    loaded.reload();
  };
  // Outside the user's équipe de soins: offer the emergency access rather than a dead end.
  if (loaded.state === 'error' && loaded.error.status === 403) return <Refused id={id} error={loaded.error} onGranted={loaded.reload} />;
  return (
    <Show loaded={loaded} what="du dossier">
      {(r) =>
        edit === 'ppcs' ? (
          <PpcsEditor record={r} onSaved={back} />
        ) : edit === 'equipe' ? (
          <TeamEditor record={r} onSaved={back} />
        ) : edit === 'tache' ? (
          <TaskEditor record={r} onSaved={back} />
        ) : (
          <Record r={r} reload={loaded.reload} />
        )
      }
    </Show>
  );
}

function Record({ r, reload }: { r: PatientRecord; reload: () => void }) {
  const me = useMe();
  const today = isoDay(me.today);
  const members = r.careTeam ? careTeamMembers(r.careTeam, r.teamIndex, today) : [];
  const tasks = taskRows({ resourceType: 'Bundle', type: 'searchset', entry: r.tasks.map((resource) => ({ resource })) }, me.today);
  const id = r.patient.id as string;
  return (
    <article class={emergencyAccess(id) ? 'record emergency-access' : 'record'}>
      <Banner r={r} />
      <EmergencyMark id={id} />
      <nav class="toolbar" aria-label="Actions sur le dossier">
        <a class="button" href={patientHref(id, 'ppcs')}>
          {r.ppcs ? 'Réviser le PPCS' : 'Créer un PPCS'}
        </a>
        <a class="button" href={patientHref(id, 'equipe')}>
          Ajouter un membre au cercle de soins
        </a>
        <a class="button" href={patientHref(id, 'tache')}>
          Nouvelle tâche
        </a>
      </nav>

      <section aria-labelledby="h-cds">
        <h2 id="h-cds">Cercle de soins</h2>
        {members.length ? (
          <PagedTable
            caption="Membres du cercle de soins"
            rows={members}
            rowClass={(m) => (m.active ? '' : 'ended')}
            columns={[
              { header: 'Rôle', cell: (m) => m.roles },
              { header: 'Nom', cell: (m) => m.name },
              { header: 'Profession', cell: (m) => m.what || '—', secondary: true },
              { header: 'Structure', cell: (m) => m.organization || '—', secondary: true },
              { header: 'Contact', cell: (m) => <Contact m={m} /> },
              { header: 'Période', cell: (m) => (m.end ? `${frenchDate(m.start)} → ${frenchDate(m.end)}` : `depuis le ${frenchDate(m.start)}`) },
              { header: 'Action', cell: (m) => (m.active && r.careTeam ? <EndMember r={r} m={m} onDone={reload} /> : '') },
            ]}
          />
        ) : (
          <Empty>Aucun cercle de soins n’est enregistré pour ce patient.</Empty>
        )}
      </section>

      <Oppositions id={id} members={members} onChanged={reload} />

      <PatientAlerts id={id} />

      <section aria-labelledby="h-ppcs">
        <h2 id="h-ppcs">Plan personnalisé de coordination en santé (PPCS)</h2>
        {r.ppcs ? <Ppcs r={r} /> : <Empty>Pas de PPCS pour ce patient.</Empty>}
        {r.protocols.length > 0 && (
          <>
            <h3>Protocoles pluriprofessionnels</h3>
            <ul>
              {r.protocols.map((p) => (
                <li>
                  {p.title} — depuis le {frenchDate(p.period?.start)} :{' '}
                  {p.activity?.map((a) => `${a.detail?.description ?? codeText(a.detail?.code)} (${frenchDate(a.detail?.scheduledPeriod?.start)})`).join(', ')}
                </li>
              ))}
            </ul>
          </>
        )}
      </section>

      <section aria-labelledby="h-parcours">
        <h2 id="h-parcours">Parcours : ville et hôpital</h2>
        {r.encounters.length ? (
          <ol class="timeline">
            {timeline(r).map((t) => (
              <li class={`kind-${t.kind === 'Hôpital' ? 'hopital' : t.kind === 'Concertation' ? 'concertation' : 'ville'}`}>
                <span class="tl-kind">{t.kind}</span> <strong>{t.what}</strong> {t.where && <span>— {t.where}</span>} <span class="muted">({t.status})</span>
              </li>
            ))}
          </ol>
        ) : (
          <Empty>Aucune rencontre enregistrée.</Empty>
        )}
      </section>

      <section aria-labelledby="h-taches">
        <h2 id="h-taches">Tâches</h2>
        {tasks.length ? (
          <PagedTable
            caption="Tâches du patient"
            rows={tasks}
            rowClass={(t) => (t.overdue ? 'overdue' : '')}
            columns={[
              { header: 'Échéance', cell: (t) => <Due row={t} /> },
              { header: 'Demande', cell: (t) => t.what },
              { header: 'Statut', cell: (t) => t.status },
              { header: 'Adressée à', cell: (t) => t.owner || '—', secondary: true },
              { header: 'Action', cell: (t) => (['completed', 'cancelled'].includes(t.task.status) ? '' : <TaskActions task={t.task} onDone={reload} />) },
            ]}
          />
        ) : (
          <Empty>Aucune tâche pour ce patient.</Empty>
        )}
      </section>

      <AccessLog id={id} />
    </article>
  );
}

const Contact = ({ m }: { m: Member }) => (
  <>
    {m.phone && <a href={`tel:${m.phone.replace(/\s/g, '')}`}>{m.phone}</a>}
    {m.phone && m.email && <br />}
    {m.email && <a href={`mailto:${m.email}`}>{m.email}</a>}
    {!m.phone && !m.email && '—'}
  </>
);

function EndMember({ r, m, onDone }: { r: PatientRecord; m: Member; onDone: () => void }) {
  const me = useMe();
  const [error, setError] = useState<FhirError>();
  const [busy, setBusy] = useState(false);
  const end = async () => {
    if (!r.careTeam || !confirm(`Mettre fin à la participation de ${m.name} au cercle de soins ?`)) return;
    setBusy(true);
    try {
      await me.session.fhir.post('', saveTransaction(withMemberEnded(r.careTeam, m.index, isoDay(me.today))));
      onDone();
    } catch (err) {
      setError(asFhirError(err));
      setBusy(false);
    }
  };
  return (
    <>
      <button type="button" onClick={end} disabled={busy} aria-label={`Mettre fin à la participation de ${m.name}`}>
        Mettre fin
      </button>
      {error && (
        <span role="alert" class="inline-error">
          {error.message}
        </span>
      )}
    </>
  );
}

function Ppcs({ r }: { r: PatientRecord }) {
  const plan = r.ppcs;
  if (!plan) return null;
  const goals = (plan.goal ?? []).map((g) => r.goals.find((x) => `Goal/${x.id}` === g.reference));
  return (
    <div class="ppcs">
      <p>
        <strong>{plan.title}</strong> — <span class="badge">{PLAN_STATUS[plan.status] ?? plan.status}</span> — depuis le {frenchDate(plan.period?.start)},
        référent : {refText(plan.author) || 'non désigné'} (version {plan.meta?.versionId}, {frenchDate(plan.meta?.lastUpdated)})
      </p>
      <h3>Problèmes</h3>
      {plan.addresses?.length ? (
        <ul>
          {plan.addresses.map((a) => (
            <li>{refText(a)}</li>
          ))}
        </ul>
      ) : (
        <Empty>Aucun problème rattaché.</Empty>
      )}
      <h3>Objectifs partagés</h3>
      {goals.length ? (
        <ul>
          {goals.map((g) => (
            <li>
              {g?.description?.text ?? 'Objectif'} — {ACHIEVEMENT[g?.achievementStatus?.coding?.[0]?.code ?? ''] ?? 'suivi non renseigné'}
              {g?.target?.[0]?.dueDate && `, échéance ${frenchDate(g.target[0].dueDate)}`}
            </li>
          ))}
        </ul>
      ) : (
        <Empty>Aucun objectif.</Empty>
      )}
      <h3>Plan d’actions</h3>
      {plan.activity?.length ? (
        <PagedTable
          caption="Actions du PPCS"
          rows={plan.activity}
          columns={[
            { header: 'Action', cell: (a) => a.detail?.description ?? codeText(a.detail?.code) },
            { header: 'Qui', cell: (a) => a.detail?.performer?.map(refText).join(', ') || '—' },
            {
              header: 'Quand',
              cell: (a) => [frenchDate(a.detail?.scheduledPeriod?.start), frenchDate(a.detail?.scheduledPeriod?.end)].filter(Boolean).join(' → ') || '—',
            },
            { header: 'Statut', cell: (a) => ACTIVITY_STATUS[a.detail?.status ?? ''] ?? '—' },
          ]}
        />
      ) : (
        <Empty>Aucune action.</Empty>
      )}
    </div>
  );
}

/** Who read or wrote this record (AuditEvent): loaded after the rest, so the record shows first. */
function AccessLog({ id }: { id: string }) {
  const me = useMe();
  const loaded = useLoad(() => me.session.fhir.get(accessQuery(id, me.today)), [id]);
  return (
    <section aria-labelledby="h-acces">
      <h2 id="h-acces">Journal des accès au dossier (12 derniers mois)</h2>
      {loaded.state === 'loading' ? (
        <Loading what="du journal des accès" />
      ) : loaded.state === 'error' ? (
        loaded.error.status === 403 ? (
          <Empty>Le journal des accès est réservé aux personnes habilitées (par exemple la coordination ou le patient lui-même).</Empty>
        ) : [400, 404, 501].includes(loaded.error.status) ? (
          <Empty>Le journal des accès n’est pas encore disponible sur ce serveur.</Empty>
        ) : (
          <ErrorBox error={loaded.error} retry={loaded.reload} />
        )
      ) : accessRows(loaded.data).length ? (
        <PagedTable
          caption="Accès au dossier"
          rows={accessRows(loaded.data)}
          columns={[
            { header: 'Date', cell: (a) => frenchDate(a.when) },
            { header: 'Qui', cell: (a) => a.who },
            { header: 'Action', cell: (a) => a.action },
            { header: 'Résultat', cell: (a) => a.outcome },
          ]}
        />
      ) : (
        <Empty>Aucun accès enregistré dans les 12 derniers mois.</Empty>
      )}
    </section>
  );
}
