import { useEffect, useState } from 'preact/hooks';
import { openLiveFeed, type LiveEvent, type LiveType } from '../fhir/live.js';
import { patientHref } from './router.js';
import { useMe } from './context.js';

/** How many events the feed shows, newest first. */
const SHOWN = 15;

/**
 * The pôle's events as they happen (stays, tasks, PPCS, appointments the coordinator may see);
 * `onChange` hears the type of each change, so that the view around can refresh what it shows.
 */
export function LiveFeed({ onChange }: { onChange?: (type: LiveType) => void }) {
  const me = useMe();
  const [events, setEvents] = useState<LiveEvent[]>([]);
  const [connected, setConnected] = useState(false);
  useEffect(() => {
    const feed = openLiveFeed(
      me.session.fhir,
      me.session.user,
      (heard) => {
        setEvents((shown) => {
          const known = new Set(shown.map((e) => e.key));
          return [...heard.filter((e) => !known.has(e.key)).reverse(), ...shown].slice(0, SHOWN);
        });
        for (const type of new Set(heard.map((e) => e.type))) onChange?.(type);
      },
      setConnected,
    );
    return () => feed.close();
  }, [me.session.fhir]);
  return (
    <section class="live-feed" aria-labelledby="h-live">
      <h2 id="h-live">
        Fil du pôle en direct{' '}
        <span class={connected ? 'badge ok' : 'badge warn'} data-live={connected ? 'connected' : 'disconnected'}>
          {connected ? 'connecté' : 'connexion…'}
        </span>
      </h2>
      {events.length ? (
        <ul aria-live="polite">
          {events.map((e) => (
            <li key={e.key}>
              <time dateTime={e.at}>{new Date(e.at).toLocaleTimeString('fr-FR', { hour: '2-digit', minute: '2-digit', timeZone: 'Europe/Paris' })}</time>{' '}
              {e.patient && <a href={patientHref(e.patient.id)}>{e.patient.name}</a>}
              {e.patient && ' — '}
              {e.what}
            </li>
          ))}
        </ul>
      ) : (
        <p class="state empty" aria-live="polite">
          Rien de nouveau depuis l’ouverture de la liste.
        </p>
      )}
    </section>
  );
}
