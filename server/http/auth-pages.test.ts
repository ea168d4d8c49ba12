import { describe, expect, it } from 'vitest';
import { describeScopes, renderPage } from './auth-pages.js';

describe('the login pages', () => {
  it('escapes what they show, in text and in attributes', () => {
    const html = renderPage({ name: 'login', clientName: '<script>alert(1)</script>', csrf: '"><img src=x>', password: true, error: '<b>oups</b>' });
    expect(html).not.toContain('<script>');
    expect(html).not.toContain('<img');
    expect(html).not.toContain('<b>');
    expect(html).toContain('<strong>&lt;script>alert(1)&lt;/script></strong>');
    expect(html).toContain('name="csrf" value="&quot;>&lt;img src=x>"');
    const consent = renderPage({ name: 'consent', clientName: 'App', csrf: 'c', scope: 'openid', roles: [{ id: 'r" onclick="x', label: '<i>rôle</i>' }] });
    expect(consent).toContain('value="r&quot; onclick=&quot;x"');
    expect(consent).toContain('&lt;i>rôle&lt;/i>');
  });

  it('are whole French documents whose forms carry the session’s CSRF token', () => {
    const html = renderPage({ name: 'patient', csrf: 'tok-1', query: 'Durand', patients: [{ id: 'pat-1', label: 'Jeanne Durand' }], searched: true });
    expect(html.startsWith('<!doctype html>\n<html lang="fr">')).toBe(true);
    expect(html).toContain('<title>Choisir le patient — Maillage</title>');
    expect(html).toContain('<form method="post" action="patient"><input type="hidden" name="csrf" value="tok-1"/>');
    expect(html).toContain('<input type="radio" id="patient-0" name="patient" value="pat-1" required/> <label for="patient-0">Jeanne Durand</label>');
    expect(renderPage({ name: 'patient', csrf: 't', query: 'x', patients: [], searched: true })).toContain('<p role="status">Aucun patient ne correspond.</p>');
  });

  it('offer the provider, the password or both', () => {
    const both = renderPage({ name: 'login', clientName: 'App', csrf: 'c', password: true, oidcName: 'Pro Santé Connect' });
    expect(both).toContain('<a class="button" href="oidc/login">Se connecter avec Pro Santé Connect</a>');
    expect(both).toContain('<p>ou</p><form method="post" action="login">');
    const provider = renderPage({ name: 'login', clientName: 'App', csrf: 'c', password: false, oidcName: 'Pro Santé Connect' });
    expect(provider).not.toContain('<form');
    expect(provider).not.toContain('<p>ou</p>');
    expect(renderPage({ name: 'login', clientName: 'App', csrf: 'c', password: true })).not.toContain('oidc/login');
  });

  it('check the first role and let the user refuse without choosing', () => {
    const html = renderPage({
      name: 'consent',
      clientName: 'App',
      csrf: 'c',
      scope: 'openid',
      roles: [
        { id: 'a', label: 'A' },
        { id: 'b', label: 'B' },
      ],
    });
    expect(html).toContain('value="a" checked required/>');
    expect(html).toContain('value="b" required/>');
    expect(html).toContain('<button type="submit" name="decision" value="deny" class="secondary" formnovalidate>Refuser</button>');
  });

  it('describe the scopes in words', () => {
    expect(describeScopes('openid fhirUser launch/patient patient/*.rs user/Observation.cruds?category=vital-signs offline_access made-up')).toEqual([
      'Connaître votre identité',
      'Connaître votre fiche de professionnel',
      'Travailler sur un patient',
      'Lire, rechercher toutes les données du patient choisi',
      'Créer, lire, modifier, supprimer, rechercher les données Observation auxquelles vous avez accès (seulement category=vital-signs)',
      'Garder l’accès après votre déconnexion (jusqu’à 90 jours)',
    ]);
  });
});
