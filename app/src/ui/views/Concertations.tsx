import type { Bundle, Task } from '@medplum/fhirtypes';
import { useState } from 'preact/hooks';
import { SYSTEM } from '../../../../server/fhir/vocabulary.js';
import { batchAnswers, batchOf, matches, ResourceIndex } from '../../fhir/bundle.js';
import { meetingTransaction } from '../../fhir/concertation.js';
import { frenchDate, isoDay, parisInstant, patientName, refText } from '../../fhir/format.js';
import { FhirError, frenchMessage } from '../../fhir/http.js';
import { useMe } from '../context.js';
import { ConflictNotice, useSave } from '../edit.js';
import { PagedTable } from '../Paged.js';
import { patientHref } from '../router.js';
import { Empty, ErrorBox, Show, useLoad, useReady } from '../states.js';

const CONCERTATION = encodeURIComponent(`${SYSTEM.coordination}|concertation-pluripro`);

/** Concertation pluriprofessionnelle: the meetings, their cases, the situations flagged and not yet scheduled (§3.3 E). */
export function Concertations() {
  const me = useMe();
  const loaded = useLoad(async () => {
    const reply = await me.session.fhir.post(
      '',
      batchOf([
        `Appointment?service-type=${CONCERTATION}&_sort=-date&_count=50`,
        `Encounter?type=${CONCERTATION}&date=ge${isoDay(me.today, -365)}&_include=Encounter:subject&_count=500`,
        `Task?code=${CONCERTATION}&status=requested&_include=Task:patient&_count=100`,
      ]),
    );
    const answers = batchAnswers(reply);
    const failed = answers.find((a) => !a.ok);
    if (failed && !failed.ok) throw new FhirError(failed.status, frenchMessage(failed.status));
    const [meetings, cases, flags] = answers.map((a) => (a.ok ? a.bundle : undefined)) as Bundle[];
    return { meetings: matches(meetings, 'Appointment'), cases, flags: matches(flags, 'Task'), flagIndex: new ResourceIndex(flags) };
  }, []);
  useReady('concertations', loaded.state === 'ok');
  return (
    <section aria-labelledby="h-concertations">
      <h1 id="h-concertations">Concertations pluriprofessionnelles</h1>
      <Show loaded={loaded} what="des concertations">
        {({ meetings, cases, flags, flagIndex }) => {
          const caseIndex = new ResourceIndex(cases);
          const casesOf = (id: string) => matches(cases, 'Encounter').filter((e) => e.appointment?.some((a) => a.reference === `Appointment/${id}`));
          return (
            <>
              <NewMeeting flags={flags} names={(t) => patientName(flagIndex.get('Patient', t.for)?.name)} onSaved={loaded.reload} />
              <h2>Réunions</h2>
              {meetings.length ? (
                <PagedTable
                  caption="Réunions de concertation"
                  rows={meetings}
                  pageSize={10}
                  columns={[
                    { header: 'Date', cell: (a) => frenchDate(a.start) },
                    { header: 'Statut', cell: (a) => (a.status === 'fulfilled' ? 'Tenue' : a.status === 'booked' ? 'Prévue' : a.status) },
                    { header: 'Objet', cell: (a) => a.description ?? '', secondary: true },
                    {
                      header: 'Dossiers',
                      cell: (a) => {
                        const list = casesOf(a.id as string);
                        return list.length ? (
                          <ul class="compact">
                            {list.map((e) => (
                              <li>
                                <a href={patientHref(e.subject?.reference?.split('/')[1] ?? '')}>
                                  {patientName(caseIndex.get('Patient', e.subject)?.name) || refText(e.subject)}
                                </a>
                                {e.reasonCode?.[0]?.text && ` — ${e.reasonCode[0].text}`}
                              </li>
                            ))}
                          </ul>
                        ) : (
                          'aucun dossier'
                        );
                      },
                    },
                    { header: 'Participants', cell: (a) => `${a.participant?.length ?? 0}`, secondary: true },
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

/** Record a meeting with the situations to review: flagged ones are ticked, each with a note. */
function NewMeeting({ flags, names, onSaved }: { flags: Task[]; names: (t: Task) => string; onSaved: () => void }) {
  const me = useMe();
  const [open, setOpen] = useState(false);
  const [date, setDate] = useState(isoDay(me.today));
  const [time, setTime] = useState('12:30');
  const [picked, setPicked] = useState<Record<string, string>>({});
  const save = useSave();
  if (!open)
    return (
      <p>
        <button type="button" class="primary" onClick={() => setOpen(true)}>
          Enregistrer une réunion de concertation
        </button>{' '}
        {flags.length} situation(s) signalée(s) en attente de concertation.
      </p>
    );
  const submit = (e: Event) => {
    e.preventDefault();
    // The time typed is Paris's, whatever the browser's zone.
    const start = new Date(parisInstant(date, time));
    const cases = flags
      .filter((f) => f.id && picked[f.id] !== undefined)
      .map((f) => ({ patient: { reference: f.for?.reference, display: f.for?.display }, note: picked[f.id as string] || (f.description ?? ''), flag: f }));
    void save.run(
      () =>
        me.session.fhir.post(
          '',
          meetingTransaction({
            start: start.toISOString(),
            end: new Date(start.getTime() + 90 * 60_000).toISOString(),
            description: `Concertation pluriprofessionnelle — ${me.organization?.name ?? 'pôle'}`,
            attendees: [me.role],
            ...(me.organization ? { organization: { reference: `Organization/${me.organization.id}`, display: me.organization.name } } : {}),
            cases,
          }),
        ),
      () => {
        setOpen(false);
        setPicked({});
        onSaved();
      },
    );
  };
  return (
    <form class="editor" onSubmit={submit} aria-labelledby="h-new-meeting">
      <h2 id="h-new-meeting">Nouvelle réunion de concertation</h2>
      {save.error?.conflict ? <ConflictNotice /> : save.error && <ErrorBox error={save.error} />}
      <div class="grid">
        <label>
          Date
          <input type="date" required value={date} onInput={(e) => setDate(e.currentTarget.value)} />
        </label>
        <label>
          Heure
          <input type="time" required value={time} onInput={(e) => setTime(e.currentTarget.value)} />
        </label>
      </div>
      <fieldset>
        <legend>Dossiers présentés</legend>
        {!flags.length && <p class="muted">Aucune situation signalée en attente.</p>}
        {flags.map((f) => {
          const id = f.id as string;
          const checked = picked[id] !== undefined;
          return (
            <div class="row">
              <label class="check">
                <input
                  type="checkbox"
                  checked={checked}
                  onChange={(e) => {
                    const next = { ...picked };
                    if (e.currentTarget.checked) next[id] = '';
                    else delete next[id];
                    setPicked(next);
                  }}
                />{' '}
                {names(f) || refText(f.for)} — {f.description}
              </label>
              {checked && (
                <label>
                  Conclusion pour {names(f)}
                  <input value={picked[id]} onInput={(e) => setPicked({ ...picked, [id]: e.currentTarget.value })} />
                </label>
              )}
            </div>
          );
        })}
      </fieldset>
      <p class="form-actions">
        <button type="submit" class="primary" disabled={save.busy}>
          Enregistrer la réunion
        </button>{' '}
        <button type="button" onClick={() => setOpen(false)}>
          Annuler
        </button>
      </p>
    </form>
  );
}
