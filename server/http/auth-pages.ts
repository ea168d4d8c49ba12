import { escapeAttribute, escapeText } from 'entities';
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

export const esc = (s: string) => escapeText(s);
const attr = (s: string) => escapeAttribute(s);

export function page(title: string, body: string): string {
  return `<!doctype html>
<html lang="fr">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(title)} — Maillage</title><style>${STYLE}</style></head>
<body><main>
<h1>${esc(title)}</h1>
${body}
</main></body></html>`;
}

const errorBox = (error?: string) => (error ? `<p class="error" role="alert">${esc(error)}</p>` : '');
const csrfField = (csrf: string) => `<input type="hidden" name="csrf" value="${attr(csrf)}">`;

export function errorPage(message: string): string {
  return page('Connexion impossible', `<p class="error" role="alert">${esc(message)}</p>`);
}

export function loginPage(o: { clientName: string; csrf: string; password: boolean; oidcName?: string; error?: string }): string {
  const oidc = o.oidcName
    ? `<p><a class="button" href="oidc/login">Se connecter avec ${esc(o.oidcName)}</a></p>${o.password ? '<p>ou</p>' : ''}`
    : '';
  const password = o.password
    ? `<form method="post" action="login">${csrfField(o.csrf)}
<label for="username">Identifiant</label><input type="text" id="username" name="username" autocomplete="username" required>
<label for="password">Mot de passe</label><input type="password" id="password" name="password" autocomplete="current-password" required>
<button type="submit">Se connecter</button></form>`
    : '';
  return page('Connexion', `${errorBox(o.error)}<p>L'application <strong>${esc(o.clientName)}</strong> demande à accéder à Maillage en votre nom.</p>${oidc}${password}`);
}

export interface Choice {
  id: string;
  label: string;
}

export function consentPage(o: { clientName: string; csrf: string; scope: string; roles: Choice[]; error?: string }): string {
  const roles = o.roles
    .map(
      (r, i) =>
        `<div class="choice"><input type="radio" id="role-${i}" name="role" value="${attr(r.id)}"${i === 0 ? ' checked' : ''} required> <label for="role-${i}">${esc(r.label)}</label></div>`,
    )
    .join('\n');
  const asked = describeScopes(o.scope)
    .map((d) => `<li>${esc(d)}</li>`)
    .join('');
  return page(
    'Autoriser l’application',
    `${errorBox(o.error)}<form method="post" action="consent">${csrfField(o.csrf)}
<fieldset><legend>Vous agissez en tant que</legend>${roles}</fieldset>
<p><strong>${esc(o.clientName)}</strong> pourra :</p><ul>${asked}</ul>
<button type="submit" name="decision" value="allow">Autoriser</button>
<button type="submit" name="decision" value="deny" class="secondary" formnovalidate>Refuser</button></form>`,
  );
}

export function encounterPage(o: { csrf: string; encounters: Choice[] }): string {
  const list = o.encounters.length
    ? `<form method="post" action="encounter">${csrfField(o.csrf)}<fieldset><legend>Rencontres du patient</legend>${radios('encounter', o.encounters)}</fieldset><button type="submit">Choisir cette rencontre</button></form>`
    : '<p role="status">Ce patient n’a aucune rencontre que vous puissiez voir.</p>';
  return page('Choisir la rencontre', list);
}

function radios(name: string, choices: Choice[]): string {
  return choices
    .map((c, i) => `<div class="choice"><input type="radio" id="${name}-${i}" name="${name}" value="${attr(c.id)}" required> <label for="${name}-${i}">${esc(c.label)}</label></div>`)
    .join('\n');
}

export function patientPage(o: { csrf: string; query: string; patients: Choice[]; searched: boolean }): string {
  const list = o.patients.length
    ? `<form method="post" action="patient">${csrfField(o.csrf)}<fieldset><legend>Patients trouvés</legend>${radios('patient', o.patients)}</fieldset><button type="submit">Choisir ce patient</button></form>`
    : o.searched
      ? '<p role="status">Aucun patient ne correspond.</p>'
      : '';
  return page(
    'Choisir le patient',
    `<form method="get" action="patient" role="search"><label for="name">Nom du patient</label>
<input type="search" id="name" name="name" value="${attr(o.query)}"><button type="submit">Rechercher</button></form>${list}`,
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
