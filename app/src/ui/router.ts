import { useEffect, useState } from 'preact/hooks';

/** The app's places, in the URL's hash (the query belongs to the SMART launch). */
export type Route =
  | { view: 'travail' | 'hopital' | 'concertations' | 'annuaire' | 'suivi' | 'indicateurs' | 'snp' }
  | { view: 'patient'; id: string; edit?: 'ppcs' | 'equipe' | 'tache' }
  | { view: 'patients'; name: string };

export function parseRoute(hash: string): Route {
  const [view, id, edit] = hash.replace(/^#\/?/, '').split('/').map(decodeURIComponent);
  if (view === 'patient' && id) return { view, id, ...(edit === 'ppcs' || edit === 'equipe' || edit === 'tache' ? { edit } : {}) };
  if (view === 'patients') return { view, name: id ?? '' };
  if (view === 'hopital' || view === 'concertations' || view === 'annuaire' || view === 'suivi' || view === 'indicateurs' || view === 'snp') return { view };
  return { view: 'travail' };
}

export const patientHref = (id: string, edit?: string) => `#/patient/${encodeURIComponent(id)}${edit ? `/${edit}` : ''}`;

export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseRoute(location.hash));
  useEffect(() => {
    const onChange = () => setRoute(parseRoute(location.hash));
    addEventListener('hashchange', onChange);
    return () => removeEventListener('hashchange', onChange);
  }, []);
  return route;
}
