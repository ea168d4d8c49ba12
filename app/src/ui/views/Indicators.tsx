import type { Bundle, Parameters } from '@medplum/fhirtypes';
import { useState } from 'preact/hooks';
import { frenchDate } from '../../fhir/format.js';
import { aciFromParameters, figureListQuery, figureRows, MONTHS, type Figure } from '../../fhir/indicators.js';
import { BarChart } from '../BarChart.js';
import { PatientLink } from '../common.js';
import { useMe } from '../context.js';
import { PagedTable } from '../Paged.js';
import { Empty, Show, useLoad, useReady } from '../states.js';

/**
 * The pôle's ACI indicators of a year, from the server's `$aci-indicators` (the same figures
 * whoever of the pôle asks; held concertations only), as plain charts (§3.3 G).
 */
export function Indicators() {
  const me = useMe();
  const thisYear = me.today.getUTCFullYear();
  const [year, setYear] = useState(thisYear);
  const [opened, setOpened] = useState<Figure>();
  const loaded = useLoad(async () => aciFromParameters((await me.session.fhir.get(`$aci-indicators?year=${year}`)) as Parameters), [year]);
  useReady('indicateurs', loaded.state === 'ok');
  return (
    <section aria-labelledby="h-indicateurs">
      <h1 id="h-indicateurs">Indicateurs ACI</h1>
      <label>
        Année{' '}
        <select
          onChange={(e) => {
            setYear(Number(e.currentTarget.value));
            setOpened(undefined);
          }}
        >
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
                  <dd>
                    <button
                      type="button"
                      class="link figure"
                      aria-expanded={opened?.name === c.name}
                      aria-controls="figure-list"
                      aria-label={`${c.value} : voir la liste — ${c.label}`}
                      onClick={() => setOpened(opened?.name === c.name ? undefined : c)}
                    >
                      {c.value}
                    </button>
                  </dd>
                </div>
              ))}
              <div>
                <dt>Patients distincts revus en concertation</dt>
                <dd>{patientsReviewed}</dd>
              </div>
            </dl>
            <div id="figure-list" aria-live="polite">
              {/* A list per figure (keyed): another figure's rows are never shown under its caption while it loads. */}
              {opened && <FigureList key={opened.list} figure={opened} />}
            </div>
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

/**
 * The items a figure counts, as the user may see them: the figure is the pôle's, the list is
 * under the user's équipe de soins, and says so when it holds fewer.
 */
function FigureList({ figure }: { figure: Figure }) {
  const me = useMe();
  const loaded = useLoad(async () => figureRows(await me.session.fhir.get<Bundle>(figureListQuery(figure))), [figure.list]);
  return (
    <Show loaded={loaded} what="de la liste">
      {(rows) => (
        <>
          {rows.length < figure.value && (
            <p class="state empty">
              {rows.length} des {figure.value} éléments comptés vous sont accessibles : les autres concernent des patients hors de votre équipe de soins.
            </p>
          )}
          {rows.length ? (
            <PagedTable
              caption={figure.label}
              rows={rows}
              columns={[
                { header: 'Date', cell: (r) => frenchDate(r.when?.slice(0, 10)) || '—' },
                { header: 'Objet', cell: (r) => r.what || '—' },
                {
                  header: 'Patient(s)',
                  cell: (r) =>
                    r.patients.length ? (
                      <ul class="compact">
                        {r.patients.map((p) => (
                          <li>
                            <PatientLink patient={p} />
                          </li>
                        ))}
                      </ul>
                    ) : (
                      '—'
                    ),
                },
              ]}
            />
          ) : (
            <Empty>Aucun élément.</Empty>
          )}
        </>
      )}
    </Show>
  );
}
