import type { Appointment, Bundle, Patient } from '@medplum/fhirtypes';
import { useState } from 'preact/hooks';
import { matches } from '../../fhir/bundle.js';
import { frenchDate, patientName } from '../../fhir/format.js';
import { FhirError } from '../../fhir/http.js';
import { patientSearchQuery } from '../../fhir/patient.js';
import { bookParameters, slotRows, slotSearchQuery, unansweredRequest, URGENCIES, type Modality, type SlotRow, type Urgency } from '../../fhir/snp.js';
import { useMe } from '../context.js';
import { PagedTable } from '../Paged.js';
import { asFhirError, Empty, ErrorBox, Show, useLoad, useReady } from '../states.js';

const SPECIALTIES: [string, string][] = [
  ['', 'Toutes'],
  ['SM54', 'Médecine générale'],
];
const MODALITIES: [Modality, string][] = [
  ['', 'Cabinet ou téléconsultation'],
  ['cabinet', 'Au cabinet'],
  ['teleconsultation', 'Téléconsultation'],
];

/**
 * Soins non programmés, for the CPTS coordinator and the régulateur: a request (patient, reason,
 * urgency), the territory's free slots within its window, earliest first, and booking one with
 * `$book`. A slot taken meanwhile is refused by the server (409) and shown as taken, never double-booked.
 */
export function Unscheduled() {
  const me = useMe();
  const [urgency, setUrgency] = useState<Urgency>('48h');
  const [specialty, setSpecialty] = useState('');
  const [modality, setModality] = useState<Modality>('');
  const [reason, setReason] = useState('');
  const [typed, setTyped] = useState('');
  const [found, setFound] = useState<Patient[]>();
  const [patient, setPatient] = useState<Patient>();
  const [taken, setTaken] = useState<Set<string>>(new Set());
  const [booked, setBooked] = useState<{ row: SlotRow; appointment: Appointment; patient: string }>();
  const [recorded, setRecorded] = useState<string>();
  const [error, setError] = useState<FhirError>();
  const [busy, setBusy] = useState(false);
  const slots = useLoad(
    async () => slotRows(await me.session.fhir.get<Bundle>(slotSearchQuery({ now: new Date(), urgency, specialty, modality }))),
    [urgency, specialty, modality],
  );
  useReady('snp', slots.state === 'ok');

  const search = async (e: Event) => {
    e.preventDefault();
    setError(undefined);
    try {
      const list = matches(await me.session.fhir.get<Bundle>(patientSearchQuery(typed)), 'Patient');
      setFound(list);
      setPatient(list.length === 1 ? list[0] : undefined);
    } catch (err) {
      setError(asFhirError(err));
    }
  };

  const book = async (row: SlotRow) => {
    if (!patient?.id) return;
    setBusy(true);
    setError(undefined);
    setBooked(undefined);
    try {
      const appointment = await me.session.fhir.post<Appointment>('Appointment/$book', bookParameters(row.id, patient.id, reason, urgency));
      setBooked({ row, appointment, patient: patientName(patient.name) });
      slots.reload();
    } catch (err) {
      const failed = asFhirError(err);
      if (failed.status === 409) {
        setTaken((t) => new Set(t).add(row.id));
        setError(new FhirError(409, `Ce créneau (Slot/${row.id}, ${frenchDate(row.start)}) vient d’être pris par quelqu’un d’autre : choisissez-en un autre.`));
      } else setError(failed);
    } finally {
      setBusy(false);
    }
  };

  // No slot suits: the request is recorded all the same, for the CPTS's figures and a later call back.
  const record = async () => {
    if (!patient?.id) return;
    setBusy(true);
    setError(undefined);
    try {
      const made = await me.session.fhir.post<Appointment>('Appointment', unansweredRequest(patient.id, reason, urgency, new Date()));
      setRecorded(`Demande enregistrée sans créneau pour ${patientName(patient.name)} — Appointment/${made.id}.`);
    } catch (err) {
      setError(asFhirError(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <section aria-labelledby="h-snp">
      <h1 id="h-snp">Soins non programmés</h1>
      <h2>Demande</h2>
      <form onSubmit={search} class="inline">
        <label>
          Patient à orienter
          <input value={typed} required minLength={2} placeholder="Nom, date de naissance ou INS" onInput={(e) => setTyped(e.currentTarget.value)} />
        </label>{' '}
        <button type="submit">Chercher le patient</button>
      </form>
      {found && !found.length && <Empty>Aucun patient de votre équipe de soins ne correspond.</Empty>}
      {found && found.length > 0 && (
        <fieldset>
          <legend>Patient</legend>
          {found.map((p) => (
            <label class="check">
              <input type="radio" name="patient" value={p.id} checked={patient?.id === p.id} onChange={() => setPatient(p)} /> {patientName(p.name)} —{' '}
              {frenchDate(p.birthDate)}
            </label>
          ))}
        </fieldset>
      )}
      <div class="grid">
        <label>
          Motif
          <input value={reason} onInput={(e) => setReason(e.currentTarget.value)} />
        </label>
        <label>
          Urgence
          <select onChange={(e) => setUrgency(e.currentTarget.value as Urgency)}>
            {Object.entries(URGENCIES).map(([k, u]) => (
              <option value={k} selected={k === urgency}>
                {u.label}
              </option>
            ))}
          </select>
        </label>
        <label>
          Spécialité
          <select onChange={(e) => setSpecialty(e.currentTarget.value)}>
            {SPECIALTIES.map(([code, label]) => (
              <option value={code} selected={code === specialty}>
                {label}
              </option>
            ))}
          </select>
        </label>
        <label>
          Modalité
          <select onChange={(e) => setModality(e.currentTarget.value as Modality)}>
            {MODALITIES.map(([code, label]) => (
              <option value={code} selected={code === modality}>
                {label}
              </option>
            ))}
          </select>
        </label>
      </div>
      {booked && (
        <p class="state" role="status">
          Rendez-vous réservé pour {booked.patient} : {frenchDate(booked.row.start)} avec {booked.row.professional} ({booked.row.place}) — Appointment/
          {booked.appointment.id}.
        </p>
      )}
      {recorded && (
        <p class="state" role="status">
          {recorded}
        </p>
      )}
      {patient && (
        <p>
          <button type="button" disabled={busy} onClick={record}>
            Enregistrer la demande sans créneau
          </button>
        </p>
      )}
      {error && <ErrorBox error={error} />}
      <h2>Créneaux libres ({URGENCIES[urgency].hours} h)</h2>
      {!patient && <p class="muted">Cherchez puis choisissez le patient pour réserver un créneau.</p>}
      <Show loaded={slots} what="des créneaux">
        {(rows) =>
          rows.length ? (
            <PagedTable
              caption="Créneaux libres, les plus proches d’abord"
              rows={rows}
              rowClass={(r) => (taken.has(r.id) ? 'flagged' : '')}
              columns={[
                { header: 'Créneau', cell: (r) => frenchDate(r.start) },
                { header: 'Professionnel', cell: (r) => r.professional },
                { header: 'Lieu', cell: (r) => r.place, secondary: true },
                { header: 'Spécialité', cell: (r) => r.specialty || '—', secondary: true },
                { header: 'Modalité', cell: (r) => (r.teleconsultation ? <span class="badge">Téléconsultation</span> : 'Au cabinet') },
                {
                  header: 'Réserver',
                  cell: (r) =>
                    taken.has(r.id) ? (
                      <span class="badge overdue">Déjà pris</span>
                    ) : (
                      <button
                        type="button"
                        value={r.id}
                        disabled={busy || !patient}
                        onClick={() => book(r)}
                        aria-label={`Réserver le créneau du ${frenchDate(r.start)} avec ${r.professional}`}
                      >
                        Réserver
                      </button>
                    ),
                },
              ]}
            />
          ) : (
            <Empty>Aucun créneau libre sur le territoire pour ces critères dans les {URGENCIES[urgency].hours} heures.</Empty>
          )
        }
      </Show>
    </section>
  );
}
