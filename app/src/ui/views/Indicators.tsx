import type { Parameters } from '@medplum/fhirtypes';
import { useState } from 'preact/hooks';
import { aciFromParameters, MONTHS } from '../../fhir/indicators.js';
import { BarChart } from '../BarChart.js';
import { useMe } from '../context.js';
import { Show, useLoad, useReady } from '../states.js';

/**
 * The pôle's ACI indicators of a year, from the server's `$aci-indicators` (the same figures
 * whoever of the pôle asks; held concertations only), as plain charts (§3.3 G).
 */
export function Indicators() {
  const me = useMe();
  const thisYear = me.today.getUTCFullYear();
  const [year, setYear] = useState(thisYear);
  const loaded = useLoad(async () => aciFromParameters((await me.session.fhir.get(`$aci-indicators?year=${year}`)) as Parameters), [year]);
  useReady('indicateurs', loaded.state === 'ok');
  return (
    <section aria-labelledby="h-indicateurs">
      <h1 id="h-indicateurs">Indicateurs ACI</h1>
      <label>
        Année{' '}
        <select onChange={(e) => setYear(Number(e.currentTarget.value))}>
          {[thisYear, thisYear - 1, thisYear - 2].map((y) => (
            <option value={y} selected={y === year}>
              {y}
            </option>
          ))}
        </select>
      </label>
      <Show loaded={loaded} what="des indicateurs">
        {({ figures, patientsReviewed, months, snp }) => (
          <>
            <dl class="figures">
              {figures.map((c) => (
                <div>
                  <dt>{c.label}</dt>
                  <dd title={c.list}>{c.value}</dd>
                </div>
              ))}
              <div>
                <dt>Patients distincts revus en concertation</dt>
                <dd>{patientsReviewed}</dd>
              </div>
            </dl>
            <h2>Soins non programmés (CPTS)</h2>
            <dl class="figures snp">
              <div>
                <dt>Demandes de soins non programmés</dt>
                <dd>{snp.requests}</dd>
              </div>
              <div>
                <dt>Demandes avec rendez-vous</dt>
                <dd>{snp.answered}</dd>
              </div>
              <div>
                <dt>Part vue sous 48 h</dt>
                <dd>{snp.shareWithin48h === undefined ? '—' : `${snp.shareWithin48h.toLocaleString('fr-FR')} %`}</dd>
              </div>
              <div>
                <dt>Délai médian jusqu’au rendez-vous</dt>
                <dd>{snp.medianDelayHours === undefined ? '—' : `${snp.medianDelayHours.toLocaleString('fr-FR')} h`}</dd>
              </div>
            </dl>
            <BarChart title={`Activité de coordination en ${year}`} bars={figures.map((c) => ({ label: c.label, value: c.value }))} />
            <BarChart title={`Dossiers revus en concertation par mois (${year})`} bars={MONTHS.map((m, i) => ({ label: m, value: months[i] }))} />
          </>
        )}
      </Show>
    </section>
  );
}
