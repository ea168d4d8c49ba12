import { useState } from 'preact/hooks';
import { launchStandalone, type LaunchKind } from '../smart.js';

/** The start page of a standalone launch: work pôle-wide, or pick a patient on the server's page. */
export function Start({ problem }: { problem?: string }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(problem);
  const go = (kind: LaunchKind) => {
    setBusy(true);
    launchStandalone(kind).catch((err: unknown) => {
      setBusy(false);
      setError(`Le serveur d’autorisation ne répond pas (${err instanceof Error ? err.message : String(err)}).`);
    });
  };
  return (
    <main id="contenu" class="start">
      <h1>Maillage — coordination des parcours</h1>
      <p>Connectez-vous avec votre compte du pôle de santé pour ouvrir l’application.</p>
      {error && (
        <p class="state error" role="alert">
          {error}
        </p>
      )}
      <p class="start-actions">
        <button type="button" class="primary" disabled={busy} onClick={() => go('pole')}>
          Travailler sur tout le pôle
        </button>
        <button type="button" disabled={busy} onClick={() => go('patient')}>
          Ouvrir le dossier d’un patient
        </button>
      </p>
    </main>
  );
}
