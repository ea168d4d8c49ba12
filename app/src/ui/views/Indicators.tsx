import { useState } from 'preact/hooks';
import { batchAnswers, batchOf } from '../../fhir/bundle.js';
import { aciCountQueries, casesByMonth, concertationCasesQuery, MONTHS } from '../../fhir/indicators.js';
import { BarChart } from '../BarChart.js';
import { useMe } from '../context.js';
import { Show, useLoad, useReady } from '../states.js';

/** ACI indicators of a year: counts by `_summary=count`, cases per month, as plain charts (§3.3 G). */
export function Indicators() {
  const me = useMe();
  const thisYear = me.today.getUTCFullYear();
  const [year, setYear] = useState(thisYear);
  const loaded = useLoad(async () => {
    const queries = aciCountQueries(year, me.protocols);
    const reply = await me.session.fhir.post('', batchOf([...queries.map((q) => q.url), concertationCasesQuery(year)]));
    const answers = batchAnswers(reply);
    const counts = queries.map((q, i) => {
      const a = answers[i];
      return { ...q, value: a?.ok ? (a.bundle.total ?? 0) : undefined };
    });
    const last = answers[queries.length];
    return { counts, cases: last?.ok ? casesByMonth(last.bundle) : undefined };
  }, [year]);
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
        {({ counts, cases }) => (
          <>
            <dl class="figures">
              {counts.map((c) => (
                <div>
                  <dt>{c.label}</dt>
                  <dd>{c.value ?? 'indisponible'}</dd>
                </div>
              ))}
              {cases && (
                <div>
                  <dt>Patients distincts revus en concertation</dt>
                  <dd>{cases.patients}</dd>
                </div>
              )}
            </dl>
            <BarChart
              title={`Activité de coordination en ${year}`}
              bars={counts.filter((c) => c.value !== undefined).map((c) => ({ label: c.label, value: c.value as number }))}
            />
            {cases && (
              <BarChart title={`Dossiers revus en concertation par mois (${year})`} bars={MONTHS.map((m, i) => ({ label: m, value: cases.months[i] }))} />
            )}
          </>
        )}
      </Show>
    </section>
  );
}
