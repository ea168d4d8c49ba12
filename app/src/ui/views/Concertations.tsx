import type { Appointment, Bundle } from '@medplum/fhirtypes';
import { useState } from 'preact/hooks';
import { SYSTEM } from '../../../../server/fhir/vocabulary.js';
import { batchAnswers, batchOf, matches, ResourceIndex } from '../../fhir/bundle.js';
import { meetingCases } from '../../fhir/concertation.js';
import { frenchDate, isoDay, patientName, refText } from '../../fhir/format.js';
import { FhirError, frenchMessage } from '../../fhir/http.js';
import { useMe } from '../context.js';
import { PagedTable } from '../Paged.js';
import { patientHref } from '../router.js';
import { Empty, Show, useLoad, useReady } from '../states.js';
import { MeetingEditor } from './MeetingEditor.js';

const CONCERTATION = encodeURIComponent(`${SYSTEM.coordination}|concertation-pluripro`);

/** Concertation pluriprofessionnelle: the meetings, their cases and conclusions, the situations flagged and not yet scheduled (§3.3 E). */
export function Concertations() {
  const me = useMe();
  // The meeting being edited ('new' for a new one).
  const [editing, setEditing] = useState<Appointment | 'new'>();
  const loaded = useLoad(async () => {
    const reply = await me.session.fhir.post(
      '',
      batchOf([
        `Appointment?service-type=${CONCERTATION}&_sort=-date&_count=50`,
        `Encounter?type=${CONCERTATION}&date=ge${isoDay(me.today, -365)}&_include=Encounter:subject&_revinclude=DocumentReference:encounter&_count=500`,
        `Task?code=${CONCERTATION}&status=requested,accepted&_include=Task:patient&_count=100`,
      ]),
    );
    const answers = batchAnswers(reply);
    const failed = answers.find((a) => !a.ok);
    if (failed && !failed.ok) throw new FhirError(failed.status, frenchMessage(failed.status));
    const [meetings, cases, flags] = answers.map((a) => (a.ok ? a.bundle : undefined)) as Bundle[];
    return { meetings: matches(meetings, 'Appointment'), cases, flags, flagIndex: new ResourceIndex(flags) };
  }, []);
  useReady('concertations', loaded.state === 'ok');
  return (
    <section aria-labelledby="h-concertations">
      <h1 id="h-concertations">Concertations pluriprofessionnelles</h1>
      <Show loaded={loaded} what="des concertations">
        {({ meetings, cases, flags, flagIndex }) => {
          const caseIndex = new ResourceIndex(cases);
          const waiting = matches(flags, 'Task').filter((t) => t.status === 'requested');
          const names = (t: { for?: { reference?: string } }) => patientName(flagIndex.get('Patient', t.for)?.name);
          const done = (saved: boolean) => {
            setEditing(undefined);
            if (saved) loaded.reload();
          };
          if (editing) {
            const recorded = editing === 'new' ? [] : meetingCases(editing, cases, flags);
            // The form names the cases' patients as the searches found them.
            for (const c of recorded) c.patient = { ...c.patient, display: patientName(caseIndex.get('Patient', c.patient)?.name) || refText(c.patient) };
            return <MeetingEditor {...(editing === 'new' ? {} : { meeting: editing })} recorded={recorded} flags={waiting} names={names} onDone={done} />;
          }
          return (
            <>
              <p>
                <button type="button" class="primary" onClick={() => setEditing('new')}>
                  Enregistrer une réunion de concertation
                </button>{' '}
                {waiting.length} situation(s) signalée(s) en attente de concertation.
              </p>
              <h2>Réunions</h2>
              {meetings.length ? (
                <PagedTable
                  caption="Réunions de concertation"
                  rows={meetings}
                  pageSize={10}
                  columns={[
                    { header: 'Date', cell: (a) => frenchDate(a.start) },
                    { header: 'Statut', cell: (a) => (a.status === 'fulfilled' ? 'Tenue' : a.status === 'booked' ? 'Prévue' : a.status) },
                    {
                      header: 'Dossiers',
                      cell: (a) => {
                        const list = meetingCases(a, cases, flags);
                        return list.length ? (
                          <ul class="compact">
                            {list.map((c) => (
                              <li>
                                <a href={patientHref(c.patient.reference?.split('/')[1] ?? '')}>
                                  {patientName(caseIndex.get('Patient', c.patient)?.name) || refText(c.patient)}
                                </a>
                                {c.reason && ` — ${c.reason}`}
                                {c.conclusion && (
                                  <>
                                    <br />
                                    <span class="conclusion">Conclusion : {c.conclusion}</span>
                                  </>
                                )}
                              </li>
                            ))}
                          </ul>
                        ) : (
                          'aucun dossier'
                        );
                      },
                    },
                    {
                      header: 'Participants',
                      cell: (a) => (a.participant ?? []).map((p) => refText(p.actor)).join(', ') || '—',
                      secondary: true,
                    },
                    {
                      header: 'Actions',
                      cell: (a) =>
                        a.status === 'booked' ? (
                          <button type="button" onClick={() => setEditing(a)} aria-label={`Modifier la réunion du ${frenchDate(a.start)}`}>
                            Modifier
                          </button>
                        ) : (
                          ''
                        ),
                    },
                  ]}
                />
              ) : (
                <Empty>Aucune réunion de concertation enregistrée.</Empty>
              )}
            </>
          );
        }}
      </Show>
    </section>
  );
}
