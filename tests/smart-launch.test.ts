import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { createRequire } from 'node:module';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, useServer } from './harness.js';
import { call, operatorToken, OPERATOR, registerApp, seedPractice } from './smart.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const fhirClientJs = readFileSync(createRequire(import.meta.url).resolve('fhirclient/build/fhir-client.js'));

/** The app: launch.html starts the SMART launch with fhirclient, index.html shows what the app got. */
const PAGES: Record<string, string> = {
  '/launch.html': `<!doctype html><meta charset="utf-8"><script src="fhir-client.js"></script><script>
    const q = new URLSearchParams(location.search);
    FHIR.oauth2.authorize({ clientId: 'browser-app', scope: q.get('scope'), redirectUri: 'index.html', ...(q.get('launch') ? {} : { iss: q.get('iss') }) });
  </script>`,
  '/index.html': `<!doctype html><meta charset="utf-8"><script src="fhir-client.js"></script><pre id="result"></pre><script>
    FHIR.oauth2.ready().then(async (client) => {
      const patient = await client.patient.read();
      const user = await client.user.read();
      document.getElementById('result').textContent = JSON.stringify({
        patient: patient.id, family: patient.name[0].family, user: client.user.fhirUser, userType: user.resourceType,
        encounter: client.encounter.id, banner: client.state.tokenResponse.need_patient_banner,
        fhirContext: client.state.tokenResponse.fhirContext, refresh: !!client.state.tokenResponse.refresh_token,
      });
    }).catch((e) => { document.getElementById('result').textContent = JSON.stringify({ error: String(e) }); });
  </script>`,
};

/**
 * Real SMART launches in headless Chromium: the app is a page on another origin that uses the
 * `fhirclient` library; the user logs in, picks a role (and a patient) on our pages. One browser.
 */
describe('SMART launches in Chromium with fhirclient', () => {
  const t = useServer('pglite', { auth: true, ...OPERATOR });
  let browser: Browser;
  let app: Server;
  let appOrigin: string;
  let p: Awaited<ReturnType<typeof seedPractice>>;

  beforeAll(async () => {
    const port = await freePort();
    appOrigin = `http://127.0.0.1:${port}`;
    app = createServer((req, res) => {
      const path = new URL(req.url ?? '/', appOrigin).pathname;
      if (path === '/fhir-client.js') return void res.writeHead(200, { 'content-type': 'text/javascript' }).end(fhirClientJs);
      const html = PAGES[path];
      res.writeHead(html ? 200 : 404, { 'content-type': 'text/html; charset=utf-8' }).end(html ?? '');
    });
    await new Promise<void>((resolve) => app.listen(port, '127.0.0.1', resolve));
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
    p = await seedPractice(t.server.url);
    await registerApp(t.server.url, {
      client_id: 'browser-app',
      client_name: 'Appli de test',
      token_endpoint_auth_method: 'none',
      redirect_uris: [`${appOrigin}/index.html`],
      scope: 'openid fhirUser launch launch/patient launch/encounter offline_access patient/*.rs user/*.rs',
    });
  });
  afterAll(async () => {
    await browser?.close();
    await new Promise<void>((resolve) => (app ? app.close(() => resolve()) : resolve()));
  });

  /** Logs in on our pages and chooses the role, as a person would. */
  async function loginAndChooseRole(page: Page, roleLabel: string) {
    await page.waitForURL(`${t.server.url}/auth/login`);
    await page.getByLabel('Identifiant').fill(p.username);
    await page.getByLabel('Mot de passe').fill(p.password);
    await page.getByRole('button', { name: 'Se connecter' }).click();
    await page.waitForURL(`${t.server.url}/auth/consent`);
    await page.getByLabel(roleLabel).check();
    await page.getByRole('button', { name: 'Autoriser' }).click();
  }

  const result = async (page: Page) => {
    await page.waitForURL(`${appOrigin}/index.html**`);
    await page.locator('#result').filter({ hasText: /./ }).waitFor();
    return JSON.parse((await page.textContent('#result')) as string) as Record<string, any>;
  };

  it('standalone launch: patient picker, then the app reads the patient and the user through CORS', async () => {
    const page = await browser.newPage();
    const scope = 'openid fhirUser launch/patient offline_access patient/*.rs user/Practitioner.rs';
    await page.goto(`${appOrigin}/launch.html?${new URLSearchParams({ iss: t.server.base, scope })}`);
    await loginAndChooseRole(page, 'Médecin coordonnateur — SSIAD du Val');
    await page.waitForURL(`${t.server.url}/auth/patient`);
    await page.getByLabel('Nom du patient').fill(`Durand`);
    await page.getByRole('button', { name: 'Rechercher' }).click();
    await page.getByLabel(/Jeanne Durand/).check();
    await page.getByRole('button', { name: 'Choisir ce patient' }).click();
    const got = await result(page);
    expect(got).toMatchObject({ patient: p.patient, family: `Durand${p.patient.slice(6)}`, userType: 'Practitioner', banner: true, refresh: true });
    expect(got.user).toBe(`Practitioner/${p.practitioner}`);
    expect(got.fhirContext).toContainEqual({ reference: `PractitionerRole/${p.role2}`, role: 'urn:maillage:fhir-context-role:acting-as' });
    await page.close();
  });

  it('EHR launch: practice software mints the launch, the app gets patient and encounter', async () => {
    const minted = await call('POST', `${t.server.url}/auth/launch`, await operatorToken(t.server.url), {
      patient: p.patient,
      encounter: p.encounter,
      need_patient_banner: false,
    });
    const page = await browser.newPage();
    const scope = 'launch openid fhirUser patient/*.rs user/Practitioner.rs';
    await page.goto(`${appOrigin}/launch.html?${new URLSearchParams({ iss: t.server.base, launch: minted.body.launch, scope })}`);
    await loginAndChooseRole(page, 'Médecin généraliste — MSP des Tilleuls');
    const got = await result(page);
    expect(got).toMatchObject({ patient: p.patient, encounter: p.encounter, banner: false, userType: 'Practitioner', refresh: false });
    await page.close();
  });
});
