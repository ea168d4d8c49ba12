import type { CarePlan } from '@medplum/fhirtypes';
import { useState } from 'preact/hooks';
import { codeText, isoDay, patientName } from '../../fhir/format.js';
import { ACHIEVEMENT, ACTIVITY_STATUS, PLAN_STATUS, ppcsForm, ppcsTransaction, type PpcsForm } from '../../fhir/ppcs.js';
import type { PatientRecord } from '../../fhir/record.js';
import { useMe } from '../context.js';
import { ConflictNotice, FormActions, teamChoices, useSave } from '../edit.js';
import { patientHref } from '../router.js';
import { ErrorBox } from '../states.js';
import { Banner } from './Banner.js';

const options = (labels: Record<string, string>, value: string) =>
  Object.entries(labels).map(([k, v]) => (
    <option value={k} selected={k === value}>
      {v}
    </option>
  ));

/** Create or revise the PPCS: one transaction, If-Match the versions read; a concurrent revision is shown. */
export function PpcsEditor({ record: r, onSaved }: { record: PatientRecord; onSaved: () => void }) {
  const me = useMe();
  const [form, setForm] = useState<PpcsForm>(() => ppcsForm(r.ppcs, r.goals, isoDay(me.today), patientName(r.patient.name)));
  const [current, setCurrent] = useState<CarePlan>();
  const save = useSave();
  const people = teamChoices(r, me);
  const labels = new Map<string, string>([
    ...people.map((p) => [p.reference, p.label.replace(/ — .*| \(moi\)/, '')] as [string, string]),
    ...r.conditions.map((c) => [`Condition/${c.id}`, codeText(c.code)] as [string, string]),
  ]);
  const set = (change: Partial<PpcsForm>) => setForm({ ...form, ...change });
  const at = <K extends 'goals' | 'activities'>(key: K, i: number, change: Partial<PpcsForm[K][number]>) =>
    set({ [key]: form[key].map((x, j) => (j === i ? { ...x, ...change } : x)) } as Partial<PpcsForm>);
  const submit = (e: Event) => {
    e.preventDefault();
    void save.run(async () => {
      try {
        await me.session.fhir.post(
          '',
          ppcsTransaction(form, {
            patient: { reference: `Patient/${r.patient.id}` },
            careTeam: r.careTeam ? { reference: `CareTeam/${r.careTeam.id}` } : undefined,
            plan: r.ppcs,
            goals: r.goals,
            labels,
          }),
        );
      } catch (err) {
        // Show what the other person wrote; the form keeps what this user typed.
        if (r.ppcs) setCurrent(await me.session.fhir.get<CarePlan>(`CarePlan/${r.ppcs.id}`).catch(() => undefined));
        throw err;
      }
    }, onSaved);
  };
  const cancel = patientHref(r.patient.id as string);
  return (
    <article class="record">
      <Banner r={r} />
      <form class="editor" onSubmit={submit} aria-labelledby="h-edit-ppcs">
        <h2 id="h-edit-ppcs">{r.ppcs ? `Réviser le PPCS (version ${r.ppcs.meta?.versionId})` : 'Créer un PPCS'}</h2>
        {save.error?.conflict ? (
          <ConflictNotice current={current}>
            <p>
              Version actuelle : « {current?.title} », {PLAN_STATUS[current?.status ?? ''] ?? ''}, {current?.activity?.length ?? 0} action(s).{' '}
              <a href={cancel}>Revenir au dossier pour voir la version actuelle</a>
            </p>
          </ConflictNotice>
        ) : (
          save.error && <ErrorBox error={save.error} />
        )}
        <div class="grid">
          <label>
            Titre
            <input required value={form.title} onInput={(e) => set({ title: e.currentTarget.value })} />
          </label>
          <label>
            Statut
            <select onChange={(e) => set({ status: e.currentTarget.value as PpcsForm['status'] })}>{options(PLAN_STATUS, form.status)}</select>
          </label>
          <label>
            Début
            <input type="date" required value={form.start} onInput={(e) => set({ start: e.currentTarget.value })} />
          </label>
          <label>
            Référent
            <select onChange={(e) => set({ referent: e.currentTarget.value || undefined })}>
              <option value="">— non désigné —</option>
              {people.map((p) => (
                <option value={p.reference} selected={p.reference === form.referent}>
                  {p.label}
                </option>
              ))}
            </select>
          </label>
        </div>
        <fieldset>
          <legend>Problèmes pris en compte</legend>
          {r.conditions.length === 0 && <p class="muted">Aucun problème n’est enregistré pour ce patient.</p>}
          {r.conditions.map((c) => {
            const ref = `Condition/${c.id}`;
            return (
              <label class="check">
                <input
                  type="checkbox"
                  checked={form.problems.includes(ref)}
                  onChange={(e) => set({ problems: e.currentTarget.checked ? [...form.problems, ref] : form.problems.filter((p) => p !== ref) })}
                />{' '}
                {codeText(c.code)}
              </label>
            );
          })}
        </fieldset>
        <fieldset>
          <legend>Objectifs partagés</legend>
          {form.goals.map((g, i) => (
            <div class="row">
              <label>
                Objectif {i + 1}
                <input required value={g.text} onInput={(e) => at('goals', i, { text: e.currentTarget.value })} />
              </label>
              <label>
                Échéance
                <input type="date" value={g.due ?? ''} onInput={(e) => at('goals', i, { due: e.currentTarget.value || undefined })} />
              </label>
              <label>
                Suivi
                <select onChange={(e) => at('goals', i, { achievement: e.currentTarget.value })}>{options(ACHIEVEMENT, g.achievement)}</select>
              </label>
              <button type="button" onClick={() => set({ goals: form.goals.filter((_, j) => j !== i) })} aria-label={`Retirer l’objectif ${i + 1}`}>
                Retirer
              </button>
            </div>
          ))}
          <button type="button" onClick={() => set({ goals: [...form.goals, { text: '', achievement: 'in-progress' }] })}>
            Ajouter un objectif
          </button>
        </fieldset>
        <fieldset>
          <legend>Plan d’actions</legend>
          {form.activities.map((a, i) => (
            <div class="row">
              <label>
                Action {i + 1}
                <input required value={a.description} onInput={(e) => at('activities', i, { description: e.currentTarget.value })} />
              </label>
              <label>
                Qui
                <select onChange={(e) => at('activities', i, { performer: e.currentTarget.value || undefined })}>
                  <option value="">— à désigner —</option>
                  {people.map((p) => (
                    <option value={p.reference} selected={p.reference === a.performer}>
                      {p.label}
                    </option>
                  ))}
                </select>
              </label>
              <label>
                Du
                <input type="date" value={a.start ?? ''} onInput={(e) => at('activities', i, { start: e.currentTarget.value || undefined })} />
              </label>
              <label>
                Au
                <input type="date" value={a.end ?? ''} onInput={(e) => at('activities', i, { end: e.currentTarget.value || undefined })} />
              </label>
              <label>
                Statut
                <select onChange={(e) => at('activities', i, { status: e.currentTarget.value })}>{options(ACTIVITY_STATUS, a.status)}</select>
              </label>
              <button type="button" onClick={() => set({ activities: form.activities.filter((_, j) => j !== i) })} aria-label={`Retirer l’action ${i + 1}`}>
                Retirer
              </button>
            </div>
          ))}
          <button type="button" onClick={() => set({ activities: [...form.activities, { description: '', status: 'not-started' }] })}>
            Ajouter une action
          </button>
        </fieldset>
        <FormActions busy={save.busy} cancel={cancel} label={r.ppcs ? 'Enregistrer la révision' : 'Créer le PPCS'} />
      </form>
    </article>
  );
}
