import type { ComponentChildren } from 'preact';
import { useCallback, useEffect, useState } from 'preact/hooks';
import { FhirError } from '../fhir/http.js';

export type Loaded<T> = { state: 'loading' } | { state: 'ok'; data: T } | { state: 'error'; error: FhirError };

/** Loads data for a view; `reload` asks again (after an edit, or a retry). */
export function useLoad<T>(load: () => Promise<T>, deps: unknown[]): Loaded<T> & { reload: () => void } {
  const [value, setValue] = useState<Loaded<T>>({ state: 'loading' });
  const [round, setRound] = useState(0);
  useEffect(() => {
    let live = true;
    setValue({ state: 'loading' });
    load().then(
      (data) => live && setValue({ state: 'ok', data }),
      (err: unknown) => live && setValue({ state: 'error', error: asFhirError(err) }),
    );
    return () => {
      live = false;
    };
  }, [...deps, round]);
  const reload = useCallback(() => setRound((r) => r + 1), []);
  return { ...value, reload };
}

export const asFhirError = (err: unknown) =>
  err instanceof FhirError ? err : new FhirError(500, err instanceof Error ? `Erreur inattendue : ${err.message}` : 'Erreur inattendue.');

/**
 * Marks the moment a view shows its data (the bench's "first useful paint"): a performance mark,
 * and `data-ready` on the body for tests, once the browser has painted the frame.
 */
export function useReady(view: string, ready: boolean): void {
  useEffect(() => {
    if (!ready) return;
    requestAnimationFrame(() => {
      performance.mark(`maillage:${view}`);
      document.body.dataset.ready = view;
    });
    return () => void delete document.body.dataset.ready;
  }, [view, ready]);
}

export const Loading = ({ what }: { what: string }) => (
  <p class="state loading" role="status" aria-live="polite">
    <span class="spinner" aria-hidden="true" /> Chargement {what}…
  </p>
);

export const Empty = ({ children }: { children: ComponentChildren }) => <p class="state empty">{children}</p>;

export const ErrorBox = ({ error, retry }: { error: FhirError; retry?: () => void }) => (
  <div class="state error" role="alert">
    <p>{error.message}</p>
    {retry && (
      <button type="button" onClick={retry}>
        Réessayer
      </button>
    )}
  </div>
);

/** Shows loading and error states, else the data. */
export function Show<T>({ loaded, what, children }: { loaded: Loaded<T> & { reload?: () => void }; what: string; children: (data: T) => ComponentChildren }) {
  if (loaded.state === 'loading') return <Loading what={what} />;
  if (loaded.state === 'error') return <ErrorBox error={loaded.error} retry={loaded.reload} />;
  return <>{children(loaded.data)}</>;
}
