import type { ComponentChildren } from 'preact';
import { renderToString } from 'preact-render-to-string';
import type { Choice, Page } from '../auth/login-flow.js';
import { parseResourceScope, splitScope } from '../auth/scopes.js';

/** The pages of the interactive authorization: plain HTML in French, no script, readable without style. */

const STYLE = `
body{font:1rem/1.5 system-ui,sans-serif;margin:0;background:#f4f6f8;color:#1b1b1b}
main{max-width:34rem;margin:2rem auto;background:#fff;padding:1.5rem 2rem;border-radius:.5rem;box-shadow:0 1px 3px #0002}
h1{font-size:1.4rem;margin-top:0}
label{display:block;margin:.8rem 0 .2rem;font-weight:600}
input[type=text],input[type=password],input[type=search]{width:100%;box-sizing:border-box;padding:.5rem;font-size:1rem;border:1px solid #555;border-radius:.25rem}
button,.button{display:inline-block;margin-top:1rem;padding:.6rem 1.2rem;font-size:1rem;border-radius:.25rem;border:1px solid #000091;background:#000091;color:#fff;text-decoration:none;cursor:pointer}
button.secondary{background:#fff;color:#000091}
fieldset{border:1px solid #ccc;border-radius:.25rem;margin:1rem 0}
fieldset label{font-weight:normal;display:inline}
.choice{margin:.4rem 0}
.error{border-left:4px solid #ce0500;background:#fee;padding:.5rem 1rem}
:focus-visible{outline:3px solid #0a76f6;outline-offset:2px}
`;

/** The page as HTML; every text and attribute is escaped by the renderer. */
export function renderPage(page: Page): string {
  return `<!doctype html>\n${renderToString(<PageOf page={page} />)}`;
}

function PageOf({ page }: { page: Page }) {
  switch (page.name) {
    case 'error':
      return (
        <Layout title="Connexion impossible">
          <ErrorBox error={page.message} />
        </Layout>
      );
    case 'login':
      return <LoginPage {...page} />;
    case 'consent':
      return <ConsentPage {...page} />;
    case 'patient':
      return <PatientPage {...page} />;
    case 'encounter':
      return <EncounterPage {...page} />;
  }
}

function Layout({ title, children }: { title: string; children: ComponentChildren }) {
  return (
    <html lang="fr">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>{`${title} — Maillage`}</title>
        <style>{STYLE}</style>
      </head>
      <body>
        <main>
          <h1>{title}</h1>
          {children}
        </main>
      </body>
    </html>
  );
}

const ErrorBox = ({ error }: { error?: string }) =>
  error ? (
    <p class="error" role="alert">
      {error}
    </p>
  ) : null;

const CsrfField = ({ csrf }: { csrf: string }) => <input type="hidden" name="csrf" value={csrf} />;

function LoginPage(o: Extract<Page, { name: 'login' }>) {
  return (
    <Layout title="Connexion">
      <ErrorBox error={o.error} />
      <p>
        L'application <strong>{o.clientName}</strong> demande à accéder à Maillage en votre nom.
      </p>
      {o.oidcName && (
        <>
          <p>
            <a class="button" href="oidc/login">
              Se connecter avec {o.oidcName}
            </a>
          </p>
          {o.password && <p>ou</p>}
        </>
      )}
      {o.password && (
        <form method="post" action="login">
          <CsrfField csrf={o.csrf} />
          <label for="username">Identifiant</label>
          <input type="text" id="username" name="username" autocomplete="username" required />
          <label for="password">Mot de passe</label>
          <input type="password" id="password" name="password" autocomplete="current-password" required />
          <button type="submit">Se connecter</button>
        </form>
      )}
    </Layout>
  );
}

/** Radio buttons, the first checked when `checkFirst`. */
function Radios({ name, choices, checkFirst = false }: { name: string; choices: Choice[]; checkFirst?: boolean }) {
  return (
    <>
      {choices.map((c, i) => (
        <div class="choice">
          <input type="radio" id={`${name}-${i}`} name={name} value={c.id} checked={checkFirst && i === 0} required />{' '}
          <label for={`${name}-${i}`}>{c.label}</label>
        </div>
      ))}
    </>
  );
}

function ConsentPage(o: Extract<Page, { name: 'consent' }>) {
  return (
    <Layout title="Autoriser l’application">
      <form method="post" action="consent">
        <CsrfField csrf={o.csrf} />
        <fieldset>
          <legend>Vous agissez en tant que</legend>
          <Radios name="role" choices={o.roles} checkFirst />
        </fieldset>
        <p>
          <strong>{o.clientName}</strong> pourra :
        </p>
        <ul>
          {describeScopes(o.scope).map((d) => (
            <li>{d}</li>
          ))}
        </ul>
        <button type="submit" name="decision" value="allow">
          Autoriser
        </button>{' '}
        <button type="submit" name="decision" value="deny" class="secondary" formnovalidate>
          Refuser
        </button>
      </form>
    </Layout>
  );
}

function PatientPage(o: Extract<Page, { name: 'patient' }>) {
  return (
    <Layout title="Choisir le patient">
      <form method="get" action="patient" role="search">
        <label for="name">Nom du patient</label>
        <input type="search" id="name" name="name" value={o.query} />
        <button type="submit">Rechercher</button>
      </form>
      {o.patients.length ? (
        <form method="post" action="patient">
          <CsrfField csrf={o.csrf} />
          <fieldset>
            <legend>Patients trouvés</legend>
            <Radios name="patient" choices={o.patients} />
          </fieldset>
          <button type="submit">Choisir ce patient</button>
        </form>
      ) : (
        o.searched && <p role="status">Aucun patient ne correspond.</p>
      )}
    </Layout>
  );
}

function EncounterPage(o: Extract<Page, { name: 'encounter' }>) {
  return (
    <Layout title="Choisir la rencontre">
      {o.encounters.length ? (
        <form method="post" action="encounter">
          <CsrfField csrf={o.csrf} />
          <fieldset>
            <legend>Rencontres du patient</legend>
            <Radios name="encounter" choices={o.encounters} />
          </fieldset>
          <button type="submit">Choisir cette rencontre</button>
        </form>
      ) : (
        <p role="status">Ce patient n’a aucune rencontre que vous puissiez voir.</p>
      )}
    </Layout>
  );
}

const VERBS: Record<string, string> = { c: 'créer', r: 'lire', u: 'modifier', d: 'supprimer', s: 'rechercher' };

/** What each scope lets the app do, in words. */
export function describeScopes(scope: string): string[] {
  return splitScope(scope).flatMap((s) => {
    const r = parseResourceScope(s);
    if (!r) return OTHER_SCOPES[s] ? [OTHER_SCOPES[s]] : [];
    const verbs = ['c', 'r', 'u', 'd', 's'].filter((p) => r.permissions.has(p as never)).map((p) => VERBS[p]);
    const what = r.type === '*' ? 'toutes les données' : `les données ${r.type}`;
    const whose = r.context === 'patient' ? ' du patient choisi' : r.context === 'user' ? ' auxquelles vous avez accès' : '';
    const filter = r.filter ? ` (seulement ${decodeURIComponent(r.filter)})` : '';
    return [`${verbs.join(', ')} ${what}${whose}${filter}`.replace(/^./, (c) => c.toUpperCase())];
  });
}

const OTHER_SCOPES: Record<string, string> = {
  openid: 'Connaître votre identité',
  fhirUser: 'Connaître votre fiche de professionnel',
  'launch/patient': 'Travailler sur un patient',
  'launch/encounter': 'Travailler sur une rencontre',
  offline_access: 'Garder l’accès après votre déconnexion (jusqu’à 90 jours)',
  online_access: 'Garder l’accès pendant votre journée de travail',
};
