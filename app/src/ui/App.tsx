import { useEffect, useState } from 'preact/hooks';
import { MeContext, type Me } from './context.js';
import { useRoute, type Route } from './router.js';
import { Concertations } from './views/Concertations.js';
import { Directory } from './views/Directory.js';
import { FollowUp } from './views/FollowUp.js';
import { Hospital } from './views/Hospital.js';
import { Indicators } from './views/Indicators.js';
import { PatientView } from './views/Patient.js';
import { Patients } from './views/Patients.js';
import { Unscheduled } from './views/Unscheduled.js';
import { Worklist } from './views/Worklist.js';

const NAV: [Route['view'], string][] = [
  ['travail', 'Liste de travail'],
  ['hopital', 'Parcours hospitaliers'],
  ['suivi', 'Suivi des protocoles'],
  ['concertations', 'Concertations'],
  ['snp', 'Soins non programmés'],
  ['annuaire', 'Annuaire'],
  ['indicateurs', 'Indicateurs'],
];

function View({ route }: { route: Route }) {
  switch (route.view) {
    case 'patient':
      return <PatientView id={route.id} edit={route.edit} />;
    case 'patients':
      return <Patients name={route.name} />;
    case 'hopital':
      return <Hospital />;
    case 'suivi':
      return <FollowUp />;
    case 'concertations':
      return <Concertations />;
    case 'annuaire':
      return <Directory />;
    case 'indicateurs':
      return <Indicators />;
    case 'snp':
      return <Unscheduled />;
    default:
      return <Worklist />;
  }
}

/** The app's frame: who I am, the places, a patient search; the view of the route in the main region. */
export function App({ me }: { me: Me }) {
  const route = useRoute();
  const [name, setName] = useState('');
  useEffect(() => {
    // Each view starts at the top, and screen readers land on its heading.
    scrollTo(0, 0);
    document.querySelector<HTMLElement>('main')?.focus({ preventScroll: true });
  }, [route.view, route.view === 'patient' ? route.id : '']);
  const patientInContext = me.session.patient;
  return (
    <MeContext.Provider value={me}>
      <a class="skip" href="#contenu">
        Aller au contenu
      </a>
      <header class="top">
        <p class="brand">Maillage · coordination</p>
        <p class="who">
          {me.name}
          {me.roleLabel && ` — ${me.roleLabel}`}
          {me.organization?.name && `, ${me.organization.name}`}{' '}
          <button type="button" class="link" onClick={me.session.logout}>
            Quitter
          </button>
        </p>
        <form
          role="search"
          class="patient-search"
          onSubmit={(e) => {
            e.preventDefault();
            if (name.trim()) location.hash = `#/patients/${encodeURIComponent(name.trim())}`;
          }}
        >
          <label for="patient-name">Patient</label>
          <input id="patient-name" placeholder="Nom du patient" value={name} onInput={(e) => setName(e.currentTarget.value)} />
          <button type="submit">Rechercher</button>
        </form>
        <nav aria-label="Vues">
          <ul>
            {patientInContext && (
              <li>
                <a
                  href={`#/patient/${encodeURIComponent(patientInContext)}`}
                  aria-current={route.view === 'patient' && route.id === patientInContext ? 'page' : undefined}
                >
                  Dossier du patient
                </a>
              </li>
            )}
            {NAV.map(([view, label]) => (
              <li>
                <a href={`#/${view}`} aria-current={route.view === view ? 'page' : undefined}>
                  {label}
                </a>
              </li>
            ))}
          </ul>
        </nav>
      </header>
      <main id="contenu" tabIndex={-1}>
        <View route={route} />
      </main>
    </MeContext.Provider>
  );
}
