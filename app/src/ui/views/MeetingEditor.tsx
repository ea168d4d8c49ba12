import type { Appointment, Bundle, Patient, Task } from '@medplum/fhirtypes';
import { useEffect, useState } from 'preact/hooks';
import { matches, ResourceIndex } from '../../fhir/bundle.js';
import { type CaseInput, meetingTransaction } from '../../fhir/concertation.js';
import { directoryRows, directorySearches, type DirectoryRow } from '../../fhir/directory.js';
import { isoDay, parisDateTime, parisInstant, patientName, refText } from '../../fhir/format.js';
import type { FhirError } from '../../fhir/http.js';
import { careTeamMembers, patientSearchQuery } from '../../fhir/patient.js';
import { useMe } from '../context.js';
import { ConflictNotice, useSave } from '../edit.js';
import { asFhirError, Empty, ErrorBox } from '../states.js';

const DEFAULT_MINUTES = 90;

/** A professional who may attend: the label shown, and where the suggestion comes from. */
type Candidate = { label: string; from: string };

/**
 * A concertation's form, new or edited: its date, its participants (those of the meeting, the
 * members of its patients' cercles de soins, anyone found in the pôle's directory), its cases (the
 * situations flagged, any patient found), and once held the conclusion of each case.
 */
export function MeetingEditor({
  meeting,
  recorded = [],
  flags,
  names,
  onDone,
}: {
  meeting?: Appointment;
  /** The meeting's cases as recorded (edit). */
  recorded?: CaseInput[];
  /** The situations flagged and waiting. */
  flags: Task[];
  names: (t: Task) => string;
  onDone: (saved: boolean) => void;
}) {
  const me = useMe();
  const start = meeting?.start ? parisDateTime(meeting.start) : { date: isoDay(me.today), time: '12:30' };
  const minutes = meeting?.start && meeting.end ? (Date.parse(meeting.end) - Date.parse(meeting.start)) / 60_000 : DEFAULT_MINUTES;
  const [date, setDate] = useState(start.date);
  const [time, setTime] = useState(start.time);
  const [held, setHeld] = useState(meeting?.status === 'fulfilled');
  const [cases, setCases] = useState<CaseInput[]>(recorded);
  const [candidates, setCandidates] = useState<Map<string, Candidate>>(() => {
    const known = new Map<string, Candidate>();
    for (const p of meeting?.participant ?? []) if (p.actor?.reference) known.set(p.actor.reference, { label: refText(p.actor), from: 'participant' });
    if (me.role.reference && !known.has(me.role.reference)) known.set(me.role.reference, { label: `${me.name} (moi)`, from: 'moi' });
    return known;
  });
  const [chosen, setChosen] = useState<Set<string>>(
    () => new Set(meeting ? [...candidates.keys()].filter((r) => candidates.get(r)?.from === 'participant') : [me.role.reference as string]),
  );
  const [problem, setProblem] = useState<string>();
  const save = useSave();

  // The members of the cases' cercles de soins are suggested as participants.
  const patientRefs = [...new Set(cases.map((c) => c.patient.reference).filter(Boolean))].sort().join(',');
  useEffect(() => {
    if (!patientRefs) return;
    let live = true;
    me.session.fhir
      .get<Bundle>(
        `CareTeam?patient=${encodeURIComponent(patientRefs)}&status=active&_include=CareTeam:participant&_include:iterate=PractitionerRole:practitioner&_count=100`,
      )
      .then((teams) => {
        if (!live) return;
        const index = new ResourceIndex(teams);
        setCandidates((known) => {
          const next = new Map(known);
          for (const team of matches(teams, 'CareTeam')) {
            const whose = cases.find((c) => c.patient.reference === team.subject?.reference);
            for (const m of careTeamMembers(team, index, isoDay(me.today))) {
              if (m.active && m.reference?.startsWith('PractitionerRole/') && !next.has(m.reference)) {
                next.set(m.reference, { label: `${m.name} — ${m.what}`, from: `cercle de soins de ${refText(whose?.patient)}` });
              }
            }
          }
          return next;
        });
      })
      .catch(() => undefined);
    return () => {
      live = false;
    };
  }, [patientRefs]);

  const toggle = (ref: string, on: boolean) => {
    const next = new Set(chosen);
    if (on) next.add(ref);
    else next.delete(ref);
    setChosen(next);
  };
  const addPerson = (row: DirectoryRow) => {
    setCandidates(new Map(candidates).set(row.reference, { label: `${row.name} — ${row.what}`, from: 'annuaire' }));
    toggle(row.reference, true);
  };
  const addCase = (c: CaseInput) => {
    if (!cases.some((x) => x.patient.reference === c.patient.reference)) setCases([...cases, c]);
  };
  const setCase = (i: number, change: Partial<CaseInput>) => setCases(cases.map((c, j) => (j === i ? { ...c, ...change } : c)));

  const submit = (e: Event) => {
    e.preventDefault();
    // The time typed is Paris's, whatever the browser's zone.
    const begin = new Date(parisInstant(date, time));
    if (held && begin.getTime() > Date.now()) return setProblem('Une réunion à venir ne peut pas être marquée comme tenue : corrigez sa date.');
    if (!chosen.size) return setProblem('Choisissez au moins un participant.');
    setProblem(undefined);
    const removed = recorded.filter((r) => !cases.some((c) => c.encounter?.id === r.encounter?.id));
    void save.run(
      () =>
        me.session.fhir.post(
          '',
          meetingTransaction({
            ...(meeting ? { appointment: meeting } : {}),
            start: begin.toISOString(),
            end: new Date(begin.getTime() + minutes * 60_000).toISOString(),
            description: meeting?.description ?? `Concertation pluriprofessionnelle — ${me.organization?.name ?? 'pôle'}`,
            attendees: [...chosen].map((reference) => ({ reference, display: candidates.get(reference)?.label.split(' — ')[0].replace(' (moi)', '') })),
            ...(me.organization ? { organization: { reference: `Organization/${me.organization.id}`, display: me.organization.name } } : {}),
            held,
            cases,
            removed,
            author: me.role,
          }),
        ),
      () => onDone(true),
    );
  };

  const title = meeting ? 'Modifier la réunion de concertation' : 'Nouvelle réunion de concertation';
  return (
    <form class="editor" onSubmit={submit} aria-labelledby="h-meeting">
      <h2 id="h-meeting">{title}</h2>
      {save.error?.conflict ? <ConflictNotice /> : save.error && <ErrorBox error={save.error} />}
      {problem && (
        <p class="state error" role="alert">
          {problem}
        </p>
      )}
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
      <label class="check">
        <input type="checkbox" checked={held} onChange={(e) => setHeld(e.currentTarget.checked)} /> La réunion a eu lieu (saisir ses conclusions)
      </label>

      <fieldset>
        <legend>Participants ({chosen.size})</legend>
        {[...candidates].map(([ref, c]) => (
          <label class="check">
            <input type="checkbox" checked={chosen.has(ref)} onChange={(e) => toggle(ref, e.currentTarget.checked)} /> {c.label}
            {c.from.startsWith('cercle') && <span class="muted"> ({c.from})</span>}
          </label>
        ))}
        <Finder
          label="Ajouter un participant (nom)"
          button="Chercher dans l’annuaire"
          none="Aucun professionnel de ce nom dans l’annuaire."
          find={async (name) => {
            const { roles } = directorySearches({ name, commune: '', identifier: '' });
            return roles ? directoryRows(await me.session.fhir.get<Bundle>(roles), undefined).filter((r) => !chosen.has(r.reference)) : [];
          }}
          row={(r: DirectoryRow) => `${r.name} — ${r.what} — ${r.where}`}
          pick={addPerson}
        />
      </fieldset>

      <fieldset>
        <legend>Dossiers présentés ({cases.length})</legend>
        {!cases.length && <p class="muted">Aucun dossier : cochez une situation signalée ou ajoutez un patient.</p>}
        {cases.map((c, i) => {
          const name = refText(c.patient);
          return (
            <div class="row case">
              <strong>{name}</strong>
              <label>
                Motif pour {name}
                <input value={c.reason} onInput={(e) => setCase(i, { reason: e.currentTarget.value })} />
              </label>
              {held && (
                <label>
                  Conclusion pour {name}
                  <input value={c.conclusion} onInput={(e) => setCase(i, { conclusion: e.currentTarget.value })} />
                </label>
              )}
              <button type="button" aria-label={`Retirer ${name}`} onClick={() => setCases(cases.filter((_, j) => j !== i))}>
                Retirer
              </button>
            </div>
          );
        })}
        {flags.length > 0 && (
          <>
            <p>Situations signalées en attente :</p>
            {flags.map((f) => {
              const name = names(f) || refText(f.for);
              const taken = cases.some((c) => c.flag?.id === f.id);
              return (
                <label class="check">
                  <input
                    type="checkbox"
                    checked={taken}
                    onChange={(e) =>
                      e.currentTarget.checked
                        ? addCase({ patient: { reference: f.for?.reference, display: name }, reason: f.description ?? '', conclusion: '', flag: f })
                        : setCases(cases.filter((c) => c.flag?.id !== f.id))
                    }
                  />{' '}
                  {name} — {f.description}
                </label>
              );
            })}
          </>
        )}
        <Finder
          label="Ajouter un patient (nom, date de naissance, INS)"
          button="Chercher le patient"
          none="Aucun patient de votre équipe de soins ne correspond."
          find={async (typed) => matches(await me.session.fhir.get<Bundle>(patientSearchQuery(typed)), 'Patient').slice(0, 20)}
          row={(p: Patient) => `${patientName(p.name)}${p.birthDate ? ` (${p.birthDate.split('-').reverse().join('/')})` : ''}`}
          pick={(p: Patient) => addCase({ patient: { reference: `Patient/${p.id}`, display: patientName(p.name) }, reason: '', conclusion: '' })}
        />
      </fieldset>

      <p class="form-actions">
        <button type="submit" class="primary" disabled={save.busy}>
          {save.busy ? 'Enregistrement…' : 'Enregistrer la réunion'}
        </button>{' '}
        <button type="button" onClick={() => onDone(false)}>
          Annuler
        </button>
      </p>
    </form>
  );
}

/** A search inside the form (not a form of its own: forms do not nest), its results each with a button to add it. */
function Finder<T>({
  label,
  button,
  none,
  find,
  row,
  pick,
}: {
  label: string;
  button: string;
  none: string;
  find: (typed: string) => Promise<T[]>;
  row: (item: T) => string;
  pick: (item: T) => void;
}) {
  const [typed, setTyped] = useState('');
  const [found, setFound] = useState<T[]>();
  const [error, setError] = useState<FhirError>();
  const run = async () => {
    if (typed.trim().length < 2) return;
    setError(undefined);
    try {
      setFound(await find(typed));
    } catch (err) {
      setError(asFhirError(err));
    }
  };
  return (
    <div class="finder">
      <div class="row">
        <label>
          {label}
          <input
            value={typed}
            onInput={(e) => setTyped(e.currentTarget.value)}
            onKeyDown={(e) => {
              if (e.key !== 'Enter') return;
              e.preventDefault();
              void run();
            }}
          />
        </label>
        <button type="button" onClick={() => void run()}>
          {button}
        </button>
      </div>
      {error && <ErrorBox error={error} />}
      {found && !found.length && <Empty>{none}</Empty>}
      {found && found.length > 0 && (
        <ul class="compact">
          {found.map((item) => (
            <li>
              {row(item)}{' '}
              <button
                type="button"
                aria-label={`Ajouter ${row(item)}`}
                onClick={() => {
                  pick(item);
                  // The last one picked, the search is done: no "none found" after it.
                  const rest = found.filter((x) => x !== item);
                  setFound(rest.length ? rest : undefined);
                  if (!rest.length) setTyped('');
                }}
              >
                Ajouter
              </button>
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
