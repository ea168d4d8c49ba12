import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Patient } from '@medplum/fhirtypes';
import { PDFParse } from 'pdf-parse';
import { chromium, type Browser, type Page } from 'playwright-core';
import { build } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OPEN_STATUSES } from '../app/src/fhir/tasks.js';
import { parseRoute } from '../app/src/ui/router.js';
import { ROLE } from '../seed/demo/territory.js';
import { useServer } from './harness.js';
import { call, operatorToken, OPERATOR } from './smart.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const SHOTS = 'test-results/app';
const AXE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
const DESKTOP = { width: 1366, height: 768 };
const PHONE = { width: 390, height: 844 };

type Persona = 'aurelie' | 'claire' | 'elodie' | 'anne' | 'lucie';

/**
 * A pôle's first week in the app (issue 27), in Chromium: each demo persona signs in and does a
 * day's work; the coordinator prints the recall letters (the PDF read back), exports them for a mail
 * merge, edits the letter and schedules a reminder; every main view, on a desktop and on a 390 px
 * phone, fits its width and passes axe-core without a serious or critical violation.
 */
describe('a pôle’s first week in the coordination app', () => {
  const t = useServer('pglite', { auth: true, seed: 'demo', ...OPERATOR });
  let browser: Browser;
  let operator: string;
  const pages = {} as Record<Persona, Page>;

  beforeAll(async () => {
    await build({ configFile: 'app/vite.config.ts', logLevel: 'warn' });
    mkdirSync(SHOTS, { recursive: true });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
    operator = await operatorToken(t.server.url);
  });
  afterAll(async () => {
    await browser?.close();
  });
  const fhir = async (path: string) => (await call('GET', `${t.server.base}/${path}`, operator)).body;

  /** The persona's page, signed in pôle-wide (once), on the worklist. */
  async function signedIn(who: Persona): Promise<Page> {
    if (pages[who]) return pages[who];
    const login = t.server.demoLogins?.find((l) => l.username === who);
    if (!login) throw new Error(`no demo login ${who}`);
    const p = await browser.newPage({ viewport: DESKTOP, acceptDownloads: true, locale: 'fr-FR', timezoneId: 'Europe/Paris' });
    await p.goto(`${t.server.url}/app/`);
    await p.getByRole('button', { name: 'Travailler sur tout le pôle' }).click();
    await p.getByLabel('Identifiant').fill(login.username);
    await p.getByLabel('Mot de passe').fill(login.password);
    await p.getByRole('button', { name: 'Se connecter' }).click();
    await p.waitForSelector('body[data-ready="travail"]');
    pages[who] = p;
    return p;
  }
  async function open(p: Page, view: string) {
    await p.evaluate('delete document.body.dataset.ready');
    const url = `${t.server.url}/app/#/${view}`;
    // The view shown again (the same hash, or the worklist the app opens on) would not navigate: it is loaded afresh.
    const shown = parseRoute(new URL(p.url()).hash);
    const same = p.url().split('#')[0] === url.split('#')[0] && JSON.stringify(shown) === JSON.stringify(parseRoute(`#/${view}`));
    if (same) await p.reload();
    else await p.goto(url);
    await p.waitForSelector('body[data-ready]');
  }
  /** axe-core's serious and critical violations on what the page shows now. */
  async function violations(p: Page): Promise<string[]> {
    // Evaluated by the debugging protocol: the app's CSP (script-src 'self') rightly refuses an inline script.
    if (!(await p.evaluate('typeof window.axe !== "undefined"'))) await p.evaluate(AXE);
    const result = (await p.evaluate(`axe.run(document, { resultTypes: ['violations'] })`)) as {
      violations: { id: string; impact: string; nodes: { target: string[] }[] }[];
    };
    return result.violations
      .filter((v) => v.impact === 'serious' || v.impact === 'critical')
      .map((v) => `${v.id} (${v.impact}): ${v.nodes.map((n) => n.target.join(' ')).slice(0, 3)}`);
  }
  /** The patients' visible rows of the follow-up list (name cells). */
  const followUpPatients = async (p: Page) => (await p.locator('table tbody tr td:nth-child(3)').allTextContents()).map((s) => s.trim());

  it('the coordinator prints the recall letters of the patients chosen: the PDF holds each one’s name and address, and the printing is traced', async () => {
    const p = await signedIn('aurelie');
    await open(p, 'suivi');
    const rows = p.locator('table tbody tr');
    expect(await rows.count()).toBeGreaterThan(3);
    // She leaves the second patient out, and prints the first page's others.
    const names = await followUpPatients(p);
    await rows.nth(1).getByRole('checkbox').uncheck();
    const printed = names.filter((_, i) => i !== 1);
    const button = p.getByRole('button', { name: /Imprimer les courriers de relance/ });
    const [download] = await Promise.all([p.waitForEvent('download'), button.click()]);
    expect(download.suggestedFilename()).toMatch(/^courriers-de-relance-\d{4}-\d{2}-\d{2}\.pdf$/);
    const parser = new PDFParse({ data: readFileSync(await download.path()) });
    const pdf = await parser.getText();
    // The first letter as an image, for people to look at.
    const image = await parser.getScreenshot({ first: 1, scale: 1.5 });
    writeFileSync(`${SHOTS}/16-courrier-de-relance.png`, Buffer.from(image.pages[0].data));
    const count = Number(/\((\d+)\)/.exec((await button.textContent()) ?? '')?.[1]);
    expect(pdf.pages.length).toBe(count);
    const text = pdf.pages.map((page) => page.text.replace(/\s+/g, ' '));
    // Each chosen patient of the first page has a letter, with their postal address; the one left out has none.
    const links = await rows.locator('td:nth-child(3) a').evaluateAll((as) => as.map((a) => (a as HTMLAnchorElement).hash.split('/').pop() as string));
    for (const [i, id] of links.entries()) {
      const patient = (await fhir(`Patient/${id}`)) as Patient;
      const [given, family] = [patient.name?.[0].given?.[0], patient.name?.[0].family];
      const letter = text.find((page) => page.includes(`${given} ${family}`));
      if (i === 1 && !printed.includes(names[1])) {
        expect(letter, `${given} ${family} was left out`).toBeUndefined();
        continue;
      }
      expect(letter, `${given} ${family}`).toBeDefined();
      expect(letter).toContain(patient.address?.[0].line?.[0]);
      expect(letter).toContain(`${patient.address?.[0].postalCode} ${patient.address?.[0].city}`);
      expect(letter).toContain('Aurélie Le Gall');
    }
    const trail = await fhir(`AuditEvent?agent=PractitionerRole/${ROLE.coordinatorMsp}&_count=50&_sort=-date`);
    const printing = trail.entry.map((e: any) => e.resource).find((a: any) => a.subtype?.[0]?.display === '$recall-letters');
    const traced = printing.entity.map((e: any) => e.what.reference);
    for (const id of links.filter((_, i) => i !== 1)) expect(traced).toContain(`Patient/${id}`);
    await p.screenshot({ path: `${SHOTS}/16-suivi-des-protocoles.png`, fullPage: true });
  });

  it('exports the letters for a mail merge, edits the pôle’s letter, and schedules a reminder', async () => {
    const p = await signedIn('aurelie');
    const [download] = await Promise.all([p.waitForEvent('download'), p.getByRole('button', { name: 'Exporter pour publipostage (CSV)' }).click()]);
    const csv = readFileSync(await download.path(), 'utf8')
      .split('\r\n')
      .filter(Boolean);
    expect(csv[0]).toMatch(/^\uFEFF"Civilité";"Prénom";"Nom";"Adresse";/);
    expect(csv.length).toBeGreaterThan(2);

    await p.getByText('Modèle du courrier de relance').click();
    const editor = p.getByLabel('Texte du courrier');
    await editor.fill('Objet : rappel\n\nBonjour {{prénom}}');
    expect(await p.getByRole('alert').textContent()).toContain('Champs inconnus : {{prénom}}');
    expect(await p.getByRole('button', { name: 'Enregistrer le modèle' }).isDisabled()).toBe(true);
    await editor.fill('Objet : rappel\n\n{{civilite}}, votre {{activite}} vous attend à la maison de santé.');
    await p.evaluate('delete document.body.dataset.ready');
    await p.getByRole('button', { name: 'Enregistrer le modèle' }).click();
    await p.waitForSelector('body[data-ready="suivi"]');
    const library = await fhir('Library?url=https://fhir.maillage.fr/Library/courrier-de-relance');
    expect(library.total ?? library.entry.length).toBe(1);
    const [again] = await Promise.all([p.waitForEvent('download'), p.getByRole('button', { name: /Imprimer les courriers de relance/ }).click()]);
    const pdf = await new PDFParse({ data: readFileSync(await again.path()) }).getText();
    expect(pdf.pages[0].text.replace(/\s+/g, ' ')).toMatch(/(Madame|Monsieur), votre .+ vous attend à la maison de santé\./);

    const first = p.locator('table tbody tr').first();
    const patientId = (await first.locator('td:nth-child(3) a').getAttribute('href'))?.split('/').pop();
    await p.evaluate('delete document.body.dataset.ready');
    await first.getByRole('button', { name: /Programmer un rappel/ }).click();
    await p.waitForSelector('body[data-ready="suivi"]');
    expect(await p.locator('table tbody tr').first().textContent()).toContain('Rappel programmé');
    const tasks = await fhir(`Task?patient=Patient/${patientId}&owner=PractitionerRole/${ROLE.coordinatorMsp}&_sort=-_lastUpdated&_count=1`);
    const reminder = tasks.entry[0].resource;
    expect(reminder.description).toMatch(/^Rappel : /);
    expect(reminder.focus.reference).toMatch(/^CarePlan\//);
    expect(reminder.restriction.period.end).toBeDefined();
  });

  it('a pharmacist’s follow-up lists only the patients of her équipe de soins, and prints only theirs', async () => {
    const aurelie = await signedIn('aurelie');
    await open(aurelie, 'suivi');
    const coordinator = await followUpPatients(aurelie);
    const p = await signedIn('anne');
    await open(p, 'suivi');
    const hers = await followUpPatients(p);
    const button = p.getByRole('button', { name: /Imprimer les courriers de relance/ });
    const total = async (q: Page) => Number(/\((\d+)\)/.exec((await q.getByRole('button', { name: /Imprimer les courriers/ }).textContent()) ?? '')?.[1]);
    expect(await total(p)).toBeLessThan(await total(aurelie));
    const others = coordinator.filter((name) => !hers.includes(name));
    expect(others.length).toBeGreaterThan(0);
    if (hers.length) {
      const [download] = await Promise.all([p.waitForEvent('download'), button.click()]);
      const pdf = (await new PDFParse({ data: readFileSync(await download.path()) }).getText()).text.replace(/\s+/g, ' ').toUpperCase();
      expect(pdf).toContain('ANNE LEMOINE');
      // The list writes FAMILY Given, a letter Given FAMILY.
      const asWritten = (name: string) => {
        const words = name.split(' ');
        const family = words.filter((w) => w === w.toUpperCase());
        return [...words.filter((w) => w !== w.toUpperCase()), ...family].join(' ').toUpperCase();
      };
      for (const name of others) expect(pdf).not.toContain(asWritten(name));
    }
  });

  it('each ACI figure opens to the list of what it counts, as far as the user may see it', async () => {
    const p = await signedIn('aurelie');
    await open(p, 'indicateurs');
    const aci = await fhir(`$aci-indicators?year=${new Date().getFullYear()}`);
    const figures = aci.parameter
      .filter((x: any) => x.name === 'figure')
      .map((x: any) => Object.fromEntries(x.part.map((y: any) => [y.name, y.valueString ?? y.valueInteger])));
    for (const figure of figures.filter((f: any) => f.value > 0)) {
      await p.getByRole('button', { name: `${figure.value} : voir la liste — ${figure.label}` }).click();
      const caption = p.locator('#figure-list caption');
      await expect.poll(async () => (await caption.count()) && caption.textContent()).toContain(figure.label);
      const shown = Number(/\((\d+)\)/.exec((await caption.textContent()) ?? '')?.[1]);
      // The whole pôle's list, by the operator: what the figure counts.
      const all = await fhir(`${figure.list}&_summary=count`);
      expect([figure.name, all.total]).toEqual([figure.name, figure.value]);
      if (shown < figure.value) expect(await p.textContent('#figure-list')).toContain(`${shown} des ${figure.value} éléments comptés vous sont accessibles`);
      else expect(shown).toBe(figure.value);
      await p.screenshot({ path: `${SHOTS}/17-indicateur-${figure.name.replace(':', '-')}.png`, fullPage: true });
    }
  });

  it('each persona does a day’s work', async () => {
    // The médecin généraliste: her worklist, a patient of hers, a task asked of a colleague.
    const claire = await signedIn('claire');
    expect(await claire.textContent('header')).toContain('Claire Morvan');
    await open(claire, 'indicateurs');
    expect(await claire.locator('.figures dd').count()).toBeGreaterThan(2);
    // She browses the directory for a colleague, with no criterion.
    await open(claire, 'annuaire');
    await claire.getByRole('button', { name: 'Parcourir l’annuaire' }).click();
    const caption = claire.locator('caption', { hasText: 'Résultats' });
    await caption.waitFor();
    const roles = await fhir('PractitionerRole?active=true&_summary=count');
    const structures = await fhir('Organization?active=true&_summary=count');
    expect(await caption.textContent()).toContain(`(${roles.total + structures.total})`);
    // The infirmière: her worklist, then a task closed with its outcome.
    const elodie = await signedIn('elodie');
    const mine = elodie.locator('table').first();
    if (await mine.getByRole('button', { name: 'Terminer' }).count()) {
      await mine.getByRole('button', { name: 'Terminer' }).first().click();
      await elodie.getByLabel('Résultat').fill('Pansement refait, cicatrisation correcte');
      await elodie.evaluate('delete document.body.dataset.ready');
      await elodie.getByRole('button', { name: 'Clore la tâche' }).click();
      await elodie.waitForSelector('body[data-ready="travail"]');
    }
    // The pharmacienne finds a patient of hers by name and opens the record.
    const anne = await signedIn('anne');
    const teams = await fhir(`CareTeam?participant=PractitionerRole/${ROLE.pharmacistLemoine}&_include=CareTeam:subject&_count=5`);
    const patient = teams.entry.find((e: any) => e.resource.resourceType === 'Patient').resource as Patient;
    await anne.getByLabel('Patient', { exact: true }).fill(`${patient.name?.[0].given?.[0]} ${patient.name?.[0].family}`);
    await anne.evaluate('delete document.body.dataset.ready');
    await anne.getByRole('button', { name: 'Rechercher' }).first().click();
    await anne.waitForSelector('body[data-ready]');
    await anne
      .getByRole('link', { name: new RegExp(patient.name?.[0].family as string, 'i') })
      .first()
      .click();
    await anne.waitForSelector('body[data-ready="patient"]');
    expect(await anne.textContent('.banner')).toContain(patient.name?.[0].family);
    // The infirmière de sortie: the patients in her hospital, and a follow-up asked for one just discharged.
    const lucie = await signedIn('lucie');
    // Her worklist holds the follow-ups she asked for (issue 27: it was empty).
    await open(lucie, 'travail');
    const her = `PractitionerRole/${ROLE.dischargeNurse}`;
    const asked = ((await fhir(`Task?requester=${her}&status=${OPEN_STATUSES.join(',')}&_count=200`)).entry ?? []).filter(
      (e: any) => e.resource.owner?.reference !== her,
    );
    expect(asked.length).toBeGreaterThan(0);
    expect(await lucie.locator('table', { hasText: 'Demandes que j’ai faites' }).locator('tbody tr').count()).toBe(Math.min(asked.length, 20));
    await open(lucie, 'hopital');
    expect(await lucie.locator('table').first().locator('tbody tr').count()).toBeGreaterThan(3);
    const create = lucie.getByRole('button', { name: 'Créer la tâche de suivi' });
    if (await create.count()) {
      const before = await create.count();
      await create.first().click();
      await expect.poll(() => create.count()).toBe(before - 1);
    }
  });

  it('every main view fits a 390 px phone and passes axe-core, as on a desktop, for each persona', async () => {
    const p = await signedIn('aurelie');
    const views = ['travail', 'hopital', 'suivi', 'concertations', 'snp', 'annuaire', 'indicateurs'];
    const plan = await fhir('CarePlan?category=https://fhir.maillage.fr/CodeSystem/coordination|ppcs&status=active&_count=1');
    views.push(`patient/${plan.entry[0].resource.subject.reference.split('/')[1]}`);
    const found: string[] = [];
    for (const size of [DESKTOP, PHONE]) {
      await p.setViewportSize(size);
      for (const view of views) {
        await open(p, view);
        for (const v of await violations(p)) found.push(`${size.width} #/${view}: ${v}`);
        const overflow = await p.evaluate('document.documentElement.scrollWidth - document.documentElement.clientWidth');
        if ((overflow as number) > 0) found.push(`${size.width} #/${view}: ${overflow} px wider than the screen`);
        if (size === PHONE) await p.screenshot({ path: `${SHOTS}/telephone-${view.split('/')[0]}.png`, fullPage: true });
      }
      // The concertation form too, where a coordinator records a meeting.
      await open(p, 'concertations');
      await p.getByRole('button', { name: 'Enregistrer une réunion de concertation' }).click();
      await p.getByRole('heading', { name: 'Nouvelle réunion de concertation' }).waitFor();
      for (const v of await violations(p)) found.push(`${size.width} concertation form: ${v}`);
      const overflow = await p.evaluate('document.documentElement.scrollWidth - document.documentElement.clientWidth');
      if ((overflow as number) > 0) found.push(`${size.width} concertation form: ${overflow} px wider than the screen`);
    }
    await p.setViewportSize(DESKTOP);
    // Each other persona's own views, the hospital's discharge nurse's included, on both screens.
    const theirs: [Persona, string][] = [
      ['claire', 'travail'],
      ['elodie', 'travail'],
      ['anne', 'suivi'],
      ['lucie', 'travail'],
      ['lucie', 'hopital'],
    ];
    for (const [who, view] of theirs) {
      const q = await signedIn(who);
      for (const size of [DESKTOP, PHONE]) {
        await q.setViewportSize(size);
        await open(q, view);
        for (const v of await violations(q)) found.push(`${who} ${size.width} #/${view}: ${v}`);
        const overflow = await q.evaluate('document.documentElement.scrollWidth - document.documentElement.clientWidth');
        if ((overflow as number) > 0) found.push(`${who} ${size.width} #/${view}: ${overflow} px wider than the screen`);
      }
      await q.setViewportSize(DESKTOP);
    }
    expect(found).toEqual([]);
  });
});
