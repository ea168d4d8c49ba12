import { useState } from 'preact/hooks';
import { frenchDate, isoDay } from '../../fhir/format.js';
import { dueActivities, toCsv } from '../../fhir/followup.js';
import { useMe } from '../context.js';
import { Due, PatientLink } from '../common.js';
import { PagedTable } from '../Paged.js';
import { Empty, Show, useLoad, useReady } from '../states.js';

/** Protocol follow-up: patients with an activity of their protocol due within 30 days, exportable as CSV (§3.3 F). */
export function FollowUp() {
  const me = useMe();
  const [protocol, setProtocol] = useState('');
  const loaded = useLoad(async () => {
    const bundle = await me.session.fhir.get(
      `CarePlan?status=active&activity-date=ge${isoDay(me.today, -30)}&activity-date=le${isoDay(me.today, 30)}&_include=CarePlan:subject&_count=1000`,
    );
    return dueActivities(bundle, me.protocols, me.today);
  }, []);
  useReady('suivi', loaded.state === 'ok');
  const download = (csv: string) => {
    const a = document.createElement('a');
    a.href = URL.createObjectURL(new Blob([csv], { type: 'text/csv;charset=utf-8' }));
    a.download = `suivi-protocoles-${isoDay(me.today)}.csv`;
    a.click();
    URL.revokeObjectURL(a.href);
  };
  return (
    <section aria-labelledby="h-suivi">
      <h1 id="h-suivi">Suivi des protocoles : échéances à 30 jours</h1>
      <Show loaded={loaded} what="des échéances">
        {(all) => {
          const rows = protocol ? all.filter((r) => r.protocol === protocol) : all;
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
                <button type="button" onClick={() => download(toCsv(rows))} disabled={!rows.length}>
                  Exporter en CSV ({rows.length} ligne(s))
                </button>
              </div>
              {rows.length ? (
                <PagedTable
                  caption="Activités à réaliser"
                  rows={rows}
                  rowClass={(r) => (r.dueIn < 0 ? 'overdue' : '')}
                  columns={[
                    { header: 'Échéance', cell: (r) => <Due row={{ due: r.due, dueIn: r.dueIn, overdue: r.dueIn < 0 }} /> },
                    { header: 'Patient', cell: (r) => <PatientLink patient={{ id: r.patientId, name: r.patient }} /> },
                    { header: 'Né(e) le', cell: (r) => frenchDate(r.birthDate), secondary: true },
                    { header: 'Protocole', cell: (r) => r.protocol, secondary: true },
                    { header: 'Activité', cell: (r) => r.activity },
                    { header: 'Réalisée par', cell: (r) => r.performer || '—', secondary: true },
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
