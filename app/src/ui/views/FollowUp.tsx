import type { Binary, Bundle, Library, Task } from '@medplum/fhirtypes';
import { useState } from 'preact/hooks';
import { DEFAULT_TEMPLATE, PLACEHOLDERS, unknownPlaceholders } from '../../../../server/letters/template.js';
import { batchAnswers, batchOf, matches, saveTransaction } from '../../fhir/bundle.js';
import { frenchDate, isoDay } from '../../fhir/format.js';
import type { FhirError } from '../../fhir/http.js';
import { binaryBlob, recallParameters, reminderTask, reminderText, TEMPLATE_SEARCH, templateOf, templateText, withText } from '../../fhir/letters.js';
import { dueActivities, type DueRow } from '../../fhir/followup.js';
import { useMe } from '../context.js';
import { Due, PatientLink } from '../common.js';
import { PagedTable } from '../Paged.js';
import { asFhirError, Empty, Show, useLoad, useReady } from '../states.js';

const keyOf = (r: DueRow) => `${r.plan}#${r.activityIndex}`;

/** Saves a file the browser made. */
function saveFile(blob: Blob, name: string) {
  const a = document.createElement('a');
  a.href = URL.createObjectURL(blob);
  a.download = name;
  a.click();
  setTimeout(() => URL.revokeObjectURL(a.href), 1000);
}

/** An error as the server explained it (a template's unknown placeholder, a patient out of reach). */
const Failure = ({ error }: { error: FhirError }) => (
  <div class="state error" role="alert">
    <p>{error.message}</p>
    {error.outcome?.issue?.[0]?.diagnostics && <p>{error.outcome.issue[0].diagnostics}</p>}
  </div>
);

/**
 * Protocol follow-up (§3.3 F) and recalls (issue 27): the patients whose protocol activity is due
 * within 30 days or overdue, a reminder to schedule for each, and the pôle's recall letters to
 * print (PDF) or merge (CSV), made and traced by the server for the patients chosen.
 */
export function FollowUp() {
  const me = useMe();
  const [protocol, setProtocol] = useState('');
  const [left, setLeft] = useState<Set<string>>(new Set());
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<FhirError>();
  const loaded = useLoad(async () => {
    const reply = await me.session.fhir.post(
      '',
      batchOf([
        `CarePlan?status=active&activity-date=ge${isoDay(me.today, -30)}&activity-date=le${isoDay(me.today, 30)}&_include=CarePlan:subject&_count=1000`,
        TEMPLATE_SEARCH,
        // My reminders already scheduled (none without a user, AUTH=off).
        ...(me.role.reference
          ? [`Task?owner=${encodeURIComponent(me.role.reference)}&status=requested,accepted,in-progress&_elements=focus,description&_count=1000`]
          : []),
      ]),
    );
    const [plans, template, reminders] = batchAnswers(reply).map((a) => (a.ok ? a.bundle : undefined));
    const reminded = new Set(matches(reminders, 'Task').map((t) => `${t.focus?.reference}|${t.description}`));
    return { rows: dueActivities(plans, me.protocols, me.today), reminded, template: templateOf(template) };
  }, []);
  useReady('suivi', loaded.state === 'ok');

  const letters = async (rows: DueRow[], format: 'pdf' | 'csv') => {
    setBusy(true);
    setError(undefined);
    try {
      const binary = await me.session.fhir.post<Binary>('CarePlan/$recall-letters', recallParameters(rows, format));
      saveFile(binaryBlob(binary), `courriers-de-relance-${isoDay(me.today)}.${format}`);
    } catch (err) {
      setError(asFhirError(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <section aria-labelledby="h-suivi">
      <h1 id="h-suivi">Suivi des protocoles : échéances à 30 jours</h1>
      <Show loaded={loaded} what="des échéances">
        {({ rows: all, reminded, template }) => {
          const rows = protocol ? all.filter((r) => r.protocol === protocol) : all;
          const chosen = rows.filter((r) => !left.has(keyOf(r)));
          const toggle = (r: DueRow) => {
            const next = new Set(left);
            if (next.has(keyOf(r))) next.delete(keyOf(r));
            else next.add(keyOf(r));
            setLeft(next);
          };
          return (
            <>
              <div class="toolbar">
                <label>
                  Protocole{' '}
                  <select onChange={(e) => setProtocol(e.currentTarget.value)}>
                    <option value="">Tous les protocoles</option>
                    {me.protocols.map((p) => (
                      <option value={p.title} selected={p.title === protocol}>
                        {p.title}
                      </option>
                    ))}
                  </select>
                </label>
                <button type="button" class="primary" onClick={() => letters(chosen, 'pdf')} disabled={busy || !chosen.length}>
                  Imprimer les courriers de relance ({chosen.length})
                </button>
                <button type="button" onClick={() => letters(chosen, 'csv')} disabled={busy || !chosen.length}>
                  Exporter pour publipostage (CSV)
                </button>
              </div>
              {error && <Failure error={error} />}
              <TemplateEditor template={template} onSaved={loaded.reload} />
              {rows.length ? (
                <PagedTable
                  caption="Activités à réaliser"
                  rows={rows}
                  rowClass={(r) => (r.dueIn < 0 ? 'overdue' : '')}
                  columns={[
                    {
                      header: 'Courrier',
                      cell: (r) => (
                        <input
                          type="checkbox"
                          checked={!left.has(keyOf(r))}
                          onChange={() => toggle(r)}
                          aria-label={`Courrier de relance pour ${r.patient} : ${r.activity}`}
                        />
                      ),
                    },
                    { header: 'Échéance', cell: (r) => <Due row={{ due: r.due, dueIn: r.dueIn, overdue: r.dueIn < 0 }} /> },
                    { header: 'Patient', cell: (r) => <PatientLink patient={{ id: r.patientId, name: r.patient }} /> },
                    { header: 'Né(e) le', cell: (r) => frenchDate(r.birthDate), secondary: true },
                    { header: 'Protocole', cell: (r) => r.protocol, secondary: true },
                    { header: 'Activité', cell: (r) => r.activity },
                    {
                      header: 'Rappel',
                      cell: (r) =>
                        reminded.has(`CarePlan/${r.plan}|${reminderText(r)}`) ? (
                          <span class="badge">Rappel programmé</span>
                        ) : (
                          <ReminderButton row={r} onDone={loaded.reload} />
                        ),
                    },
                  ]}
                />
              ) : (
                <Empty>Aucune activité de protocole n’arrive à échéance dans les 30 jours.</Empty>
              )}
            </>
          );
        }}
      </Show>
    </section>
  );
}

/** Schedules the reminder of one due activity: a task of mine due on the activity's date. */
function ReminderButton({ row, onDone }: { row: DueRow; onDone: () => void }) {
  const me = useMe();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<FhirError>();
  const schedule = async () => {
    setBusy(true);
    try {
      await me.session.fhir.post<Bundle>('', saveTransaction(reminderTask(row, me.role, new Date()) as Task));
      onDone();
    } catch (err) {
      setError(asFhirError(err));
      setBusy(false);
    }
  };
  return (
    <>
      <button type="button" onClick={schedule} disabled={busy} aria-label={`Programmer un rappel pour ${row.patient}`}>
        Programmer un rappel
      </button>
      {error && <Failure error={error} />}
    </>
  );
}

/** The pôle's letter text, edited here; its placeholders listed, a typo caught before saving. */
function TemplateEditor({ template, onSaved }: { template?: Library; onSaved: () => void }) {
  const me = useMe();
  const [text, setText] = useState(templateText(template) ?? DEFAULT_TEMPLATE);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<FhirError>();
  const unknown = unknownPlaceholders(text);
  const save = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      await me.session.fhir.post('', saveTransaction(withText(template, text)));
      onSaved();
    } catch (err) {
      setError(asFhirError(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <details class="template-editor">
      <summary>Modèle du courrier de relance{template ? '' : ' (modèle par défaut)'}</summary>
      <form onSubmit={save}>
        <label for="template-text">Texte du courrier</label>
        <textarea id="template-text" rows={14} value={text} onInput={(e) => setText(e.currentTarget.value)} aria-describedby="template-help" />
        <div id="template-help">
          <p>L’en-tête (structure, adresse du patient, date) et la signature sont ajoutés à chaque courrier. Champs disponibles :</p>
          <ul class="placeholders">
            {Object.entries(PLACEHOLDERS).map(([name, what]) => (
              <li>
                <code>{`{{${name}}}`}</code> : {what}
              </li>
            ))}
          </ul>
        </div>
        {unknown.length > 0 && (
          <p class="state error" role="alert">
            Champs inconnus : {unknown.map((u) => `{{${u}}}`).join(', ')}
          </p>
        )}
        {error && <Failure error={error} />}
        <p class="form-actions">
          <button type="submit" class="primary" disabled={busy || unknown.length > 0}>
            {busy ? 'Enregistrement…' : 'Enregistrer le modèle'}
          </button>
        </p>
      </form>
    </details>
  );
}
