import { mkdirSync, readFileSync } from 'node:fs';
import { chromium, type Browser, type Page } from 'playwright-core';
import { build } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { frenchDate, parisToday } from '../app/src/fhir/format.js';
import { ROLE } from '../seed/demo/territory.js';
import { COORDINATION_APP_CLIENT_ID } from '../server/fhir/maillage.js';
import { useServer } from './harness.js';
import { call, operatorToken, OPERATOR } from './smart.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
/** Screenshots of each view, for people to look at (git-ignored). */
const SHOTS = 'test-results/app';

/**
 * The coordinators' SMART app end to end: the server with the demo pôle and its demo users, the
 * app built as `npm run build` builds it, headless Chromium clicking as a coordinator would.
 */
describe('the coordination app at /app/ in Chromium', () => {
  const t = useServer('pglite', { auth: true, seed: 'demo', ...OPERATOR });
  let browser: Browser;
  let page: Page;
  let token: string;
  const login = () => {
    const aurelie = t.server.demoLogins?.find((l) => l.username === 'aurelie');
    if (!aurelie) throw new Error('the demo users were not created');
    return aurelie;
  };

  beforeAll(async () => {
    await build({ configFile: 'app/vite.config.ts', logLevel: 'warn' });
    mkdirSync(SHOTS, { recursive: true });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
    page = await browser.newPage({ viewport: { width: 1280, height: 900 }, acceptDownloads: true, locale: 'fr-FR' });
    token = await operatorToken(t.server.url);
  });
  afterAll(async () => {
    await browser?.close();
  });

  /** Our login page, as a person fills it. */
  async function signIn(p: Page) {
    await p.waitForURL(`${t.server.url}/auth/login`);
    await p.getByLabel('Identifiant').fill(login().username);
    await p.getByLabel('Mot de passe').fill(login().password);
    await p.getByRole('button', { name: 'Se connecter' }).click();
    // The pôle's own app asks no consent (issue 27): a user of one role goes straight on.
    await p.waitForURL((url) => url.pathname !== '/auth/login');
    expect(new URL(p.url()).pathname).not.toBe('/auth/consent');
  }

  /** Opens a view and waits until it shows its data; saves its screenshot. */
  async function open(view: string, shot: string) {
    await page.evaluate('delete document.body.dataset.ready');
    const url = `${t.server.url}/app/#/${view}`;
    // The same hash again would not navigate: the view is loaded afresh.
    if (page.url() === url) await page.reload();
    else await page.goto(url);
    await page.waitForSelector('body[data-ready]');
    await page.screenshot({ path: `${SHOTS}/${shot}.png`, fullPage: true });
  }

  const fhir = async (path: string) => (await call('GET', `${t.server.base}/${path}`, token)).body;

  /** In the concertation form: a patient added to the cases by family name (the first found). */
  async function addCaseByName(family: string) {
    await page.getByLabel(/^Ajouter un patient/).fill(family);
    await page.getByRole('button', { name: 'Chercher le patient' }).click();
    await page
      .getByRole('button', { name: new RegExp(`^Ajouter ${family.toUpperCase()}`) })
      .first()
      .click();
  }

  /** In the concertation form: a participant found in the pôle's directory by `name`, the button `button`. */
  async function addParticipant(name: string, button: RegExp) {
    await page.getByLabel('Ajouter un participant (nom)').fill(name);
    await page.getByRole('button', { name: 'Chercher dans l’annuaire' }).click();
    await page.getByRole('button', { name: button }).click();
  }

  it('standalone launch pôle-wide: the coordinator logs in and gets the worklist, overdue tasks first', async () => {
    await page.goto(`${t.server.url}/app/`);
    await page.getByRole('button', { name: 'Travailler sur tout le pôle' }).click();
    await signIn(page);
    await page.waitForURL(`${t.server.url}/app/**`);
    await page.waitForSelector('body[data-ready="travail"]');
    await expect(page.getByRole('heading', { name: 'Ma liste de travail' }).isVisible()).resolves.toBe(true);
    expect(await page.textContent('header')).toContain('Aurélie Le Gall');
    const firstDue = await page.locator('table').first().locator('tbody tr').first().textContent();
    expect(firstDue).toMatch(/retard de \d+ j/);
    // The pôle's open requests are addressed to the DAC: its own take them on, not the MSP's coordinator (issue 27).
    expect(await page.getByText(/À prendre en charge par DAC/).count()).toBeGreaterThan(0);
    expect(await page.getByRole('button', { name: 'Prendre en charge' }).count()).toBe(0);
    await page.screenshot({ path: `${SHOTS}/1-liste-de-travail.png`, fullPage: true });
    await page.setViewportSize({ width: 390, height: 844 });
    await page.screenshot({ path: `${SHOTS}/1-liste-de-travail-telephone.png` });
    await page.setViewportSize({ width: 1280, height: 900 });
  });

  it('worklist: says who asked, and closes a task of mine with its outcome', async () => {
    const mine = page.locator('table').first();
    const requesters = await mine.locator('tbody tr td:nth-child(5)').allTextContents();
    expect(requesters.filter((r) => r.trim() && r !== '—').length).toBe(requesters.length);
    await mine.getByRole('button', { name: 'Terminer' }).first().click();
    await page.getByLabel('Résultat').fill('Réévaluation faite avec le médecin traitant');
    await page.evaluate('delete document.body.dataset.ready');
    await page.getByRole('button', { name: 'Clore la tâche' }).click();
    await page.waitForSelector('body[data-ready="travail"]');
    const done = await fhir('Task?status=completed&_sort=-_lastUpdated&_count=1');
    expect(done.entry[0].resource.output[0].valueString).toBe('Réévaluation faite avec le médecin traitant');
  });

  it('hospital pathways: in hospital now, planned admissions, discharges without follow-up flagged', async () => {
    await open('hopital', '2-parcours-hospitaliers');
    for (const h of ['Hospitalisés en ce moment', 'Admissions programmées (14 jours)', 'Sorties des 7 derniers jours']) {
      expect(await page.getByRole('heading', { name: h }).isVisible()).toBe(true);
    }
    const flagged = await page.getByText('Sans suivi').count();
    expect(flagged).toBeGreaterThan(0);
    await page.getByRole('button', { name: 'Créer la tâche de suivi' }).first().click();
    await expect.poll(() => page.getByText('Sans suivi').count()).toBe(flagged - 1);
  });

  it('protocol follow-up lists the activities due in 30 days and exports them for a mail merge (CSV)', async () => {
    await open('suivi', '3-suivi-des-protocoles');
    const rows = await page.locator('table tbody tr').count();
    expect(rows).toBeGreaterThan(0);
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: /Exporter pour publipostage/ }).click()]);
    const csv = readFileSync(await download.path(), 'utf8');
    expect(csv.split('\r\n')[0]).toMatch(/^\uFEFF"Civilité";"Prénom";"Nom";"Adresse";/);
    expect(csv).toContain('diabète de type 2');
  });

  it('concertations: records a meeting with a flagged situation, a patient and a colleague found, which leaves the waiting list', async () => {
    await open('concertations', '4-concertations');
    const waiting = Number(/(\d+) situation/.exec((await page.textContent('main')) ?? '')?.[1]);
    expect(waiting).toBeGreaterThan(0);
    await page.getByRole('button', { name: 'Enregistrer une réunion de concertation' }).click();
    await page.locator('fieldset', { hasText: 'Dossiers présentés' }).locator('input[type=checkbox]').first().check();
    await page
      .getByLabel(/^Motif pour/)
      .first()
      .fill('Renforcer le passage infirmier ?');
    // One more patient, not flagged, found by name.
    const other = (await fhir('Patient?_count=1&_sort=family')).entry[0].resource;
    await addCaseByName(other.name[0].family);
    // A colleague from the pôle's directory.
    await addParticipant('Guérin', /^Ajouter Élodie Guérin/);
    await page.screenshot({ path: `${SHOTS}/4b-nouvelle-concertation.png`, fullPage: true });
    await page.getByRole('button', { name: 'Enregistrer la réunion' }).click();
    await expect.poll(async () => (await page.textContent('main')) ?? '').toContain(`${waiting - 1} situation(s) signalée(s)`);
    expect(await page.textContent('main')).toContain('Renforcer le passage infirmier ?');
    const meeting = (await fhir('Appointment?service-type=https://fhir.maillage.fr/CodeSystem/coordination|concertation-pluripro&_sort=-_lastUpdated&_count=1'))
      .entry[0].resource;
    expect(meeting.status).toBe('booked');
    expect(meeting.participant.map((p: any) => p.actor.reference).sort()).toEqual(
      [`PractitionerRole/${ROLE.coordinatorMsp}`, `PractitionerRole/${ROLE.nurseGuerin}`].sort(),
    );
    const cases = await fhir(`Encounter?appointment=Appointment/${meeting.id}`);
    expect(cases.entry.map((e: any) => e.resource.status)).toEqual(['planned', 'planned']);
    expect(cases.entry.map((e: any) => e.resource.subject.reference)).toContain(`Patient/${other.id}`);
  });

  it('concertations: edits a planned meeting (date, participants, cases) and marks it held with its conclusions; the ACI figures count it (issue 27)', async () => {
    const planned = await fhir('Appointment/concertation-3');
    expect(planned.status).toBe('booked');
    // Held yesterday (Paris), which the ACI figures of that year then count.
    const yesterday = new Date(parisToday(new Date()).getTime() - 86_400_000).toISOString().slice(0, 10);
    const year = yesterday.slice(0, 4);
    const figure = async (name: string) =>
      (await fhir(`$aci-indicators?year=${year}`)).parameter
        .find((p: any) => p.name === 'figure' && p.part[0].valueString === name)
        .part.find((p: any) => p.name === 'value').valueInteger;
    const before = { meetings: await figure('meetings'), cases: await figure('cases') };
    await open('concertations', '4c-concertations');
    await page.getByRole('button', { name: `Modifier la réunion du ${frenchDate(planned.start)}` }).click();
    await page.getByLabel('Date', { exact: true }).fill(yesterday);
    await page.getByLabel('Heure').fill('12:30');
    // The pharmacist does not come; the cardiologist does.
    const participants = page.locator('fieldset', { hasText: 'Participants' });
    await participants.getByRole('checkbox', { name: /Anne Lemoine/ }).uncheck();
    await addParticipant('Salaün', /^Ajouter Dr Patrick Salaün/);
    // Two cases: a flagged situation, and a patient added by name.
    const cases = page.locator('fieldset', { hasText: 'Dossiers présentés' });
    await cases.locator('input[type=checkbox]').first().check();
    const other = (await fhir('Patient?_count=1&_sort=-family')).entry[0].resource;
    await addCaseByName(other.name[0].family);
    // A suggestion from the added patients' cercles de soins is offered.
    await participants
      .getByText(/cercle de soins de/)
      .first()
      .waitFor();
    await page.getByLabel('La réunion a eu lieu (saisir ses conclusions)').check();
    const conclusions = page.getByLabel(/^Conclusion pour/);
    await conclusions.nth(0).fill('Passage infirmier quotidien ; revoir dans un mois');
    await conclusions.nth(1).fill('Bilan de chutes par le kinésithérapeute');
    await page.screenshot({ path: `${SHOTS}/4d-concertation-tenue.png`, fullPage: true });
    await page.getByRole('button', { name: 'Enregistrer la réunion' }).click();
    await page.getByText('Conclusion : Passage infirmier quotidien ; revoir dans un mois').waitFor();

    const held = await fhir('Appointment/concertation-3');
    expect(held.status).toBe('fulfilled');
    expect(held.start.slice(0, 10)).toBe(yesterday);
    const attendees = held.participant.map((p: any) => p.actor.reference);
    expect(attendees).toContain('PractitionerRole/role-patrick-salaun-ch-lysmont-cardiologie');
    expect(attendees).not.toContain(`PractitionerRole/${ROLE.pharmacistLemoine}`);
    const reviewed = (await fhir('Encounter?appointment=Appointment/concertation-3&_revinclude=DocumentReference:encounter')).entry.map((e: any) => e.resource);
    const encounters = reviewed.filter((r: any) => r.resourceType === 'Encounter');
    expect(encounters.map((e: any) => e.status)).toEqual(['finished', 'finished']);
    expect(encounters.map((e: any) => e.subject.reference)).toContain(`Patient/${other.id}`);
    expect(encounters[0].participant.map((p: any) => p.individual.reference).sort()).toEqual([...attendees].sort());
    const reports = reviewed.filter((r: any) => r.resourceType === 'DocumentReference');
    expect(reports.map((d: any) => Buffer.from(d.content[0].attachment.data, 'base64').toString('utf8')).sort()).toEqual(
      ['Bilan de chutes par le kinésithérapeute', 'Passage infirmier quotidien ; revoir dans un mois'].sort(),
    );
    const flag = (await fhir(`Task?code=https://fhir.maillage.fr/CodeSystem/coordination|concertation-pluripro&status=completed`)).entry.map(
      (e: any) => e.resource,
    );
    expect(flag.some((t: any) => encounters.some((e: any) => t.output?.[0]?.valueReference?.reference === `Encounter/${e.id}`))).toBe(true);
    // The ACI figures see the meeting held and its two cases.
    expect({ meetings: await figure('meetings'), cases: await figure('cases') }).toEqual({ meetings: before.meetings + 1, cases: before.cases + 2 });
    // And it is no longer offered for editing.
    expect(await page.getByRole('button', { name: new RegExp(`^Modifier la réunion du ${frenchDate(held.start)}`) }).count()).toBe(0);
  });

  it('directory: type-ahead on profession or specialty, then the professionals found', async () => {
    await open('annuaire', '5-annuaire');
    await page.getByRole('combobox', { name: 'Profession ou spécialité' }).fill('infirm');
    await page
      .getByRole('option', { name: /Infirmier/ })
      .first()
      .click();
    await page.getByRole('button', { name: 'Rechercher' }).last().click();
    await page.getByRole('cell', { name: 'Élodie Guérin' }).waitFor();
    await page.screenshot({ path: `${SHOTS}/5-annuaire.png`, fullPage: true });
    await page.getByRole('combobox', { name: 'Profession ou spécialité' }).fill('');
    const hospital = await fhir('Organization/ch-lysmont-ej');
    const finess = hospital.identifier.find((i: { system: string }) => i.system === 'https://finess.esante.gouv.fr').value;
    await page.getByLabel('Identifiant').fill(finess);
    await page.getByRole('button', { name: 'Rechercher' }).last().click();
    await page.getByRole('cell', { name: 'Centre hospitalier de Lysmont', exact: true }).waitFor();
    expect(await page.locator('tbody tr').count()).toBe(1);
  });

  it('indicators: the ACI counts of the year', async () => {
    await open('indicateurs', '6-indicateurs');
    const aci = await fhir(`$aci-indicators?year=${new Date().getFullYear()}`);
    const ppcs = aci.parameter.find((p: any) => p.name === 'figure' && p.part[0].valueString === 'ppcs').part.find((p: any) => p.name === 'value');
    expect(await page.locator('.figures div', { hasText: 'PPCS actifs' }).locator('dd').textContent()).toBe(String(ppcs.valueInteger));
    expect(await page.locator('figure svg').count()).toBe(2);
    // The charts' labels whole, wrapped over lines (issue 27).
    const labels = await page
      .locator('figure svg')
      .first()
      .locator('text[text-anchor=end]')
      .evaluateAll((ts) => ts.map((t) => Array.from(t.querySelectorAll('tspan'), (s) => s.textContent).join(' ')));
    const figures = aci.parameter.filter((p: any) => p.name === 'figure').map((p: any) => p.part[1].valueString);
    expect(labels).toEqual(figures);
  });

  let patientId: string;
  it('patient record: identity banner with INS status, cercle de soins, PPCS, encounters, tasks, access log', async () => {
    const plans = await fhir('CarePlan?category=https://fhir.maillage.fr/CodeSystem/coordination|ppcs&status=active&_count=1');
    patientId = plans.entry[0].resource.subject.reference.split('/')[1];
    await open(`patient/${patientId}`, '7-dossier-patient');
    expect(await page.textContent('.banner')).toMatch(/Identité (validée|provisoire)/);
    for (const h of ['Cercle de soins', 'Plan personnalisé de coordination en santé (PPCS)', 'Parcours : ville et hôpital', 'Tâches']) {
      expect(await page.getByRole('heading', { name: h, exact: true }).isVisible()).toBe(true);
    }
    expect(await page.getByRole('cell', { name: 'Médecin traitant', exact: true }).count()).toBeGreaterThan(0);
    await page.getByRole('heading', { name: /Journal des accès/ }).waitFor();
    await page.locator('section[aria-labelledby=h-acces] :is(table, .state)').waitFor();
  });

  it('revises the PPCS: one more action, written as a new version', async () => {
    const before = await fhir(`CarePlan/ppcs-${patientId}`);
    await page.getByRole('link', { name: 'Réviser le PPCS' }).click();
    await page.getByRole('button', { name: 'Ajouter une action' }).click();
    const n = before.activity.length + 1;
    await page.getByLabel(`Action ${n}`, { exact: true }).fill('Appel téléphonique de suivi');
    await page.screenshot({ path: `${SHOTS}/8-revision-ppcs.png`, fullPage: true });
    await page.getByRole('button', { name: 'Enregistrer la révision' }).click();
    await page.waitForSelector('body[data-ready="patient"]');
    await page.getByRole('cell', { name: 'Appel téléphonique de suivi' }).waitFor();
    const after = await fhir(`CarePlan/ppcs-${patientId}`);
    expect(Number(after.meta.versionId)).toBe(Number(before.meta.versionId) + 1);
    expect(after.activity).toHaveLength(n);
  });

  it('adds a member to the cercle de soins, found in the directory', async () => {
    await page.getByRole('link', { name: 'Ajouter un membre au cercle de soins' }).click();
    await page.getByLabel('Nom du professionnel').fill('Salaün');
    await page.getByRole('button', { name: 'Rechercher dans l’annuaire' }).click();
    await page.getByLabel(/Patrick Salaün/).check();
    await page.screenshot({ path: `${SHOTS}/9-ajout-membre.png`, fullPage: true });
    await page.getByRole('button', { name: 'Ajouter au cercle de soins' }).click();
    await page.waitForSelector('body[data-ready="patient"]');
    await page.getByRole('cell', { name: 'Dr Patrick Salaün', exact: true }).waitFor();
    const team = await fhir(`CareTeam/cds-${patientId}`);
    expect(team.participant.at(-1).member.reference).toBe('PractitionerRole/role-patrick-salaun-ch-lysmont-cardiologie');
  });

  it('a concurrent revision of the PPCS is refused and shown, never overwritten', async () => {
    await page.getByRole('link', { name: 'Réviser le PPCS' }).click();
    await page.getByLabel('Titre').fill('PPCS révisé dans l’application');
    // Meanwhile someone else revises the same plan.
    const current = await fhir(`CarePlan/ppcs-${patientId}`);
    const theirs = await call('PUT', `${t.server.base}/CarePlan/${current.id}`, token, { ...current, title: 'PPCS révisé ailleurs' });
    expect(theirs.status).toBe(200);
    await page.getByRole('button', { name: 'Enregistrer la révision' }).click();
    const alert = page.getByRole('alert').filter({ hasText: 'Modification concurrente' });
    await alert.waitFor();
    expect(await alert.textContent()).toContain('PPCS révisé ailleurs');
    await page.screenshot({ path: `${SHOTS}/10-modification-concurrente.png`, fullPage: true });
    expect((await fhir(`CarePlan/${current.id}`)).title).toBe('PPCS révisé ailleurs');
    expect(await page.getByLabel('Titre').inputValue()).toBe('PPCS révisé dans l’application');
  });

  it('records an opposition towards a member of the cercle de soins, then withdraws it (issue 27)', async () => {
    const opposed = 'PractitionerRole/role-patrick-salaun-ch-lysmont-cardiologie';
    const denied = async () =>
      ((await fhir(`Consent?patient=Patient/${patientId}&status=active`)).entry ?? []).flatMap((e: any) =>
        (e.resource.provision?.provision ?? []).filter((p: any) => p.type === 'deny').flatMap((p: any) => p.actor.map((a: any) => a.reference.reference)),
      );
    page.on('dialog', (d) => d.accept());
    await open(`patient/${patientId}`, '13-oppositions');
    await page.getByText('Enregistrer une opposition du patient').click();
    await page.getByRole('checkbox', { name: /Patrick Salaün/ }).check();
    await page.evaluate('delete document.body.dataset.ready');
    await page.getByRole('button', { name: 'Enregistrer l’opposition' }).click();
    await page.waitForSelector('body[data-ready="patient"]');
    const shown = page.locator('.oppositions li', { hasText: 'Opposition envers Dr Patrick Salaün' });
    await shown.waitFor();
    await page.screenshot({ path: `${SHOTS}/13-oppositions.png`, fullPage: true });
    expect(await denied()).toContain(opposed);
    await page.evaluate('delete document.body.dataset.ready');
    await shown.getByRole('button', { name: 'Retirer l’opposition' }).click();
    await page.waitForSelector('body[data-ready="patient"]');
    await page.getByRole('heading', { name: 'Consentement et oppositions' }).waitFor();
    await expect.poll(async () => page.locator('.oppositions li', { hasText: 'Patrick Salaün' }).count()).toBe(0);
    expect(await denied()).not.toContain(opposed);
    page.removeAllListeners('dialog');
  });

  it('a refused record offers break-glass: the reason asked, the record shown marked as emergency access (issue 27)', async () => {
    const consents = await fhir('Consent?status=active&_count=500');
    const opposing = consents.entry.find((e: any) => e.resource.provision?.type === 'deny' && !e.resource.provision.actor);
    const id = opposing.resource.patient.reference.split('/')[1];
    await page.goto(`${t.server.url}/app/#/patient/${id}`);
    await page.getByLabel('Motif de l’accès d’urgence').fill('Patient inconscient aux urgences, traitement à vérifier');
    await page.screenshot({ path: `${SHOTS}/14-bris-de-glace.png`, fullPage: true });
    await page.getByRole('button', { name: 'Accéder en urgence' }).click();
    await page.waitForSelector('body[data-ready="patient"]');
    expect(await page.textContent('.emergency')).toContain('Accès d’urgence (bris de glace) jusqu’à');
    expect(await page.textContent('.emergency')).toContain('Patient inconscient aux urgences');
    await page.screenshot({ path: `${SHOTS}/15-acces-urgence.png`, fullPage: true });
    // Still marked after a reload, while the access lasts.
    await page.reload();
    await page.waitForSelector('body[data-ready="patient"]');
    expect(await page.textContent('.emergency')).toContain('Patient inconscient aux urgences');
    const reviews = await fhir('AuditEvent?subtype=https://fhir.maillage.fr/CodeSystem/audit|break-glass');
    expect(JSON.stringify(reviews)).toContain(`Patient/${id}`);
  });

  it('standalone launch with the patient picker opens on the chosen patient', async () => {
    const p = await browser.newPage({ locale: 'fr-FR' });
    await p.goto(`${t.server.url}/app/launch`);
    await p.getByRole('button', { name: 'Ouvrir le dossier d’un patient' }).click();
    await signIn(p);
    await p.waitForURL(`${t.server.url}/auth/patient`);
    const patient = await fhir(`Patient/${patientId}`);
    await p.getByLabel('Nom du patient').fill(patient.name[0].family);
    await p.getByRole('button', { name: 'Rechercher' }).click();
    await p.locator(`input[value="${patientId}"]`).check();
    await p.getByRole('button', { name: 'Choisir ce patient' }).click();
    await p.waitForSelector('body[data-ready="patient"]');
    expect(await p.textContent('.banner h1')).toContain(patient.name[0].family);
    await p.close();
  });

  it('soins non programmés: the coordinator books the earliest free slot; one taken meanwhile is refused (409) and shown taken', async () => {
    const patient = await fhir(`Patient/${patientId}`);
    await open('snp', '13-soins-non-programmes');
    await page.getByLabel('Patient à orienter').fill(patient.name[0].family);
    await page.getByRole('button', { name: 'Chercher le patient' }).click();
    await page.locator(`input[name=patient][value="${patientId}"]`).check();
    await page.getByLabel('Motif').fill('Fièvre depuis trois jours');
    const slots = page.getByRole('button', { name: /^Réserver le créneau/ });
    const first = (await slots.first().getAttribute('value')) as string;
    await slots.first().click();
    const done = page.getByRole('status').filter({ hasText: 'Rendez-vous réservé' });
    await done.waitFor();
    const appointment = await fhir(`Appointment/${/Appointment\/([^\s.]+)/.exec((await done.textContent()) ?? '')?.[1]}`);
    expect(appointment).toMatchObject({ status: 'booked', slot: [{ reference: `Slot/${first}` }], reasonCode: [{ text: 'Fièvre depuis trois jours' }] });
    expect(appointment.participant.map((p: any) => p.actor.reference)).toContain(`Patient/${patientId}`);
    expect((await fhir(`Slot/${first}`)).status).toBe('busy');
    await expect.poll(() => page.locator(`button[value="${first}"]`).count()).toBe(0);
    // Someone else books the next slot behind the app's back: the app's click gets the 409, shown as such.
    const next = (await slots.first().getAttribute('value')) as string;
    const theirs = await call('POST', `${t.server.base}/Appointment/$book`, token, {
      resourceType: 'Parameters',
      parameter: [
        { name: 'slot', valueReference: { reference: `Slot/${next}` } },
        { name: 'patient', valueReference: { reference: `Patient/${patientId}` } },
      ],
    });
    expect(theirs.status).toBe(201);
    await page.locator(`button[value="${next}"]`).click();
    await page
      .getByRole('alert')
      .filter({ hasText: `Slot/${next}` })
      .waitFor();
    expect(await page.getByRole('alert').textContent()).toContain('vient d’être pris');
    expect(await page.getByText('Déjà pris').count()).toBe(1);
    await page.screenshot({ path: `${SHOTS}/13-soins-non-programmes.png`, fullPage: true });
    // A request no slot suits is recorded all the same.
    await page.getByRole('button', { name: 'Enregistrer la demande sans créneau' }).click();
    await page.getByRole('status').filter({ hasText: 'Demande enregistrée sans créneau' }).waitFor();
    // Both requests count among the CPTS's figures (the other booking was not one: no category).
    await open('indicateurs', '13b-indicateurs-snp');
    const figure = (label: string) => page.locator('.snp div', { hasText: label }).locator('dd').textContent();
    expect(await figure('Demandes de soins non programmés')).toBe('2');
    expect(await figure('Demandes avec rendez-vous')).toBe('1');
    expect(await figure('Part vue sous 48 h')).toBe('50 %');
  });

  it('the hospital’s discharge nurse, named by her profession, sees the patients in her hospital (issue 27)', async () => {
    const lucie = t.server.demoLogins?.find((l) => l.username === 'lucie');
    if (!lucie) throw new Error('no demo login lucie');
    const p = await browser.newPage({ locale: 'fr-FR', viewport: { width: 1366, height: 768 } });
    await p.goto(`${t.server.url}/app/`);
    await p.getByRole('button', { name: 'Travailler sur tout le pôle' }).click();
    await p.getByLabel('Identifiant').fill(lucie.username);
    await p.getByLabel('Mot de passe').fill(lucie.password);
    await p.getByRole('button', { name: 'Se connecter' }).click();
    await p.waitForSelector('body[data-ready="travail"]');
    expect(await p.textContent('header')).toContain('Infirmière');
    await p.evaluate('delete document.body.dataset.ready');
    await p.goto(`${t.server.url}/app/#/hopital`);
    await p.waitForSelector('body[data-ready]');
    const inHospital = p.locator('section', { has: p.getByRole('heading', { name: 'Hospitalisés en ce moment' }) }).first();
    expect(await inHospital.textContent()).not.toContain('n’est hospitalisé en ce moment');
    expect(await p.locator('table').first().locator('tbody tr').count()).toBeGreaterThan(3);
    await p.screenshot({ path: `${SHOTS}/12-hopital-infirmiere-de-sortie.png`, fullPage: true });
    await p.close();
  });

  it('EHR launch: practice software mints the launch, the app opens on its patient', async () => {
    const minted = await call('POST', `${t.server.url}/auth/launch`, token, { patient: patientId, client_id: COORDINATION_APP_CLIENT_ID });
    expect(minted.status).toBe(201);
    const p = await browser.newPage({ locale: 'fr-FR' });
    await p.goto(`${t.server.url}/app/launch?${new URLSearchParams({ iss: t.server.base, launch: minted.body.launch })}`);
    await signIn(p);
    await p.waitForSelector('body[data-ready="patient"]');
    expect(p.url()).toContain(`#/patient/${patientId}`);
    expect(await p.getByRole('link', { name: 'Dossier du patient' }).getAttribute('aria-current')).toBe('page');
    await p.screenshot({ path: `${SHOTS}/11-lancement-ehr.png`, fullPage: true });
    await p.close();
  });
});
