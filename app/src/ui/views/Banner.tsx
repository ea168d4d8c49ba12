import { frenchDate } from '../../fhir/format.js';
import { identity } from '../../fhir/patient.js';
import type { PatientRecord } from '../../fhir/record.js';
import { useMe } from '../context.js';

/** The patient's identity above the record and its editors (unless the launching software shows its own). */
export function Banner({ r }: { r: PatientRecord }) {
  const me = useMe();
  const who = identity(r.patient, me.today);
  // Launched from practice software that shows its own banner: do not repeat it.
  if (!me.session.needPatientBanner && me.session.patient === who.id) return <h1 class="visually-hidden">{who.name}</h1>;
  return (
    <header class="banner" aria-label="Identité du patient">
      <h1>{who.name}</h1>
      <p>
        {who.gender}, {who.born} le {frenchDate(who.birthDate)}
        {who.age !== undefined && ` (${who.age} ans)`}
        {who.address && ` — ${who.address}`}
        {who.phone && ` — ${who.phone}`}
      </p>
      <p>
        <span class={`badge ${who.statusCode === 'VALI' || who.statusCode === 'QUAL' ? 'ok' : 'warn'}`}>{who.status}</span>{' '}
        {who.ins ? (
          <span>
            {who.ins.kind} : <span class="mono">{who.ins.value}</span>
          </span>
        ) : (
          <span>Pas d’INS : l’identité n’est pas validée.</span>
        )}
      </p>
    </header>
  );
}
