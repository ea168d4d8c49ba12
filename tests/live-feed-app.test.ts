import { chromium, type Browser, type Page } from 'playwright-core';
import { build } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Config } from '../server/config.js';
import { useServer } from './harness.js';
import { call, operatorToken, OPERATOR } from './smart.js';
import { useSmtp } from './smtp.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const AURELIE_ROLE = 'PractitionerRole/role-aurelie-legall-msp-val-de-lys';

/**
 * The coordinator's live feed and email alerts, end to end: the app built, Chromium, the demo
 * pôle, a real SMTP server; what others write through REST reaches the open app by its websocket.
 */
describe('the coordination app hears the pôle live', () => {
  const overrides: Partial<Config> = { auth: true, seed: 'demo', ...OPERATOR, mailFrom: 'notifications@maillage.test' };
  const smtp = useSmtp(overrides);
  beforeAll(async () => {
    await build({ configFile: 'app/vite.config.ts', logLevel: 'warn' });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
    page = await browser.newPage({ viewport: { width: 1280, height: 900 }, locale: 'fr-FR' });
  });
  const t = useServer('pglite', overrides);
  let browser: Browser;
  let page: Page;
  let token: string | undefined;
  let patientId: string;
  afterAll(() => browser?.close());
  const rest = async (method: string, path: string, body?: unknown) => {
    token ??= await operatorToken(t.server.url);
    const res = await call(method, `${t.server.base}/${path}`, token, body);
    if (res.status >= 300) throw new Error(`${method} ${path}: ${JSON.stringify(res.body)}`);
    return res.body;
  };

  it('a task assigned through REST, and a stay of one of her patients, appear in the open worklist without reload', async () => {
    const aurelie = t.server.demoLogins?.find((l) => l.username === 'aurelie');
    if (!aurelie) throw new Error('no demo login aurelie');
    await page.goto(`${t.server.url}/app/`);
    await page.getByRole('button', { name: 'Travailler sur tout le pôle' }).click();
    await page.getByLabel('Identifiant').fill(aurelie.username);
    await page.getByLabel('Mot de passe').fill(aurelie.password);
    await page.getByRole('button', { name: 'Se connecter' }).click();
    await page.waitForSelector('body[data-ready="travail"]');
    await page.waitForSelector('[data-live="connected"]', { timeout: 15_000 });
    // Marks this page: a reload would lose it.
    await page.evaluate('window.stillTheSamePage = true');

    const [mine] = (await rest('GET', `Task?owner=${AURELIE_ROLE}&status=requested,received,accepted,ready,in-progress&_count=1`)).entry;
    patientId = mine.resource.for.reference.split('/')[1];
    const { id: _id, meta: _meta, ...task } = mine.resource;
    // Long overdue: the first row of her first page.
    await rest('POST', 'Task', {
      ...task,
      status: 'ready',
      description: 'Rappeler la pharmacie de garde (écrit par REST)',
      authoredOn: new Date().toISOString(),
      restriction: { period: { end: '2020-01-01' } },
    });
    const worklist = page.getByRole('table', { name: 'Mes tâches ouvertes' });
    await worklist.getByText('Rappeler la pharmacie de garde (écrit par REST)').waitFor({ timeout: 10_000 });
    const feed = page.locator('section.live-feed');
    await feed.getByText(/Tâche créée : Rappeler la pharmacie de garde/).waitFor();

    await rest('PUT', 'Encounter/live-stay', {
      resourceType: 'Encounter',
      id: 'live-stay',
      status: 'in-progress',
      class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'IMP' },
      subject: { reference: `Patient/${patientId}` },
      period: { start: new Date().toISOString() },
    });
    await feed.getByText('Séjour hospitalier : admission (en cours)').waitFor({ timeout: 10_000 });
    expect(await feed.getByRole('link').first().getAttribute('href')).toBe(`#/patient/${patientId}`);
    expect(await page.evaluate('window.stillTheSamePage')).toBe(true);
    await page.screenshot({ path: 'test-results/app/14-fil-en-direct.png', fullPage: true });
  });

  it('what she may not see never reaches her feed', async () => {
    // A patient outside every équipe de soins of the pôle: written, never shown.
    await rest('PUT', 'Patient/live-stranger', { resourceType: 'Patient', id: 'live-stranger', name: [{ family: 'Inconnu' }] });
    await rest('PUT', 'Encounter/live-stranger-stay', {
      resourceType: 'Encounter',
      id: 'live-stranger-stay',
      status: 'finished',
      class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'IMP' },
      subject: { reference: 'Patient/live-stranger' },
    });
    // Then one she may see: once it is shown, the other had its chance to be.
    await rest('PUT', 'Encounter/live-stay', {
      resourceType: 'Encounter',
      id: 'live-stay',
      status: 'finished',
      class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'IMP' },
      subject: { reference: `Patient/${patientId}` },
    });
    const feed = page.locator('section.live-feed');
    await feed.getByText('Séjour hospitalier : sortie').waitFor({ timeout: 10_000 });
    expect(await feed.textContent()).not.toContain('Inconnu');
    expect(await feed.getByText('Séjour hospitalier : sortie').count()).toBe(1);
  });

  it('she subscribes by email to a patient’s stays from the record, gets a mail at the next one, and stops', async () => {
    await page.evaluate('delete document.body.dataset.ready');
    await page.goto(`${t.server.url}/app/#/patient/${patientId}`);
    await page.waitForSelector('body[data-ready="patient"]');
    const alerts = page.locator('section', { has: page.getByRole('heading', { name: 'Alertes par courriel' }) });
    const address = alerts.getByLabel('Adresse de messagerie (MSSanté)');
    if (!(await address.inputValue())) await address.fill('aurelie.legall@msp-val-de-lys.mssante.fr');
    const email = await address.inputValue();
    await alerts.getByRole('button', { name: 'M’alerter des séjours hospitaliers' }).click();
    await alerts.getByText('Alertes actives').waitFor();
    const [subscription] = (await rest('GET', `Subscription?type=email&url=${encodeURIComponent(`mailto:${email}`)}`)).entry;
    expect(subscription.resource).toMatchObject({ status: 'active', criteria: `Encounter?patient=Patient/${patientId}` });

    await rest('PUT', 'Encounter/live-stay-2', {
      resourceType: 'Encounter',
      id: 'live-stay-2',
      status: 'in-progress',
      class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'IMP' },
      subject: { reference: `Patient/${patientId}` },
      reasonCode: [{ text: 'décompensation cardiaque' }],
    });
    await smtp.first(10_000);
    expect(smtp.mails.map((m) => m.to)).toEqual([[email]]);
    const { text } = smtp.mails[0];
    expect(text).toContain(`${t.server.base}/Encounter/live-stay-2`);
    expect(text).not.toMatch(/décompensation|cardiaque/);

    await alerts.getByRole('button', { name: 'Arrêter les alertes' }).click();
    await alerts.getByRole('button', { name: 'M’alerter des séjours hospitaliers' }).waitFor();
    expect((await rest('GET', `Subscription?type=email&url=${encodeURIComponent(`mailto:${email}`)}`)).entry ?? []).toEqual([]);
  });

  it('keeps one live subscription per type for her, found again when the app opens again, its end pushed back', async () => {
    const tagged = async () =>
      (
        await rest(
          'GET',
          `Subscription?_tag=${encodeURIComponent('https://fhir.maillage.fr/CodeSystem/coordination-app-subscription|Practitioner/pr-aurelie-legall')}`,
        )
      ).entry.map((e: { resource: { id: string; criteria: string; end: string } }) => e.resource);
    const before = await tagged();
    expect(before.map((s: { criteria: string }) => s.criteria).sort()).toEqual(['Appointment', 'CarePlan', 'Encounter', 'Task']);
    await page.evaluate('delete document.body.dataset.ready');
    await page.goto(`${t.server.url}/app/#/travail`);
    await page.reload();
    await page.waitForSelector('body[data-ready="travail"]');
    await page.waitForSelector('[data-live="connected"]', { timeout: 15_000 });
    const after = await tagged();
    expect(after.map((s: { id: string }) => s.id).sort()).toEqual(before.map((s: { id: string }) => s.id).sort());
    for (const s of after) expect(s.end > (before.find((b: { id: string }) => b.id === s.id)?.end ?? '')).toBe(true);
  });
});
