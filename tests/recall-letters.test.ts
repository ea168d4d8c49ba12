import type { Bundle, Patient, PlanDefinition } from '@medplum/fhirtypes';
import { PDFParse } from 'pdf-parse';
import { beforeAll, describe, expect, it } from 'vitest';
import { dueActivities, type DueRow } from '../app/src/fhir/followup.js';
import { parisToday } from '../app/src/fhir/format.js';
import { RECALL_TEMPLATE_URL } from '../server/letters/template.js';
import { ROLE } from '../seed/demo/territory.js';
import { DATABASES, useServer } from './harness.js';
import { APP_REDIRECT, call, OPERATOR, operatorToken, registerApp, userToken } from './smart.js';

/**
 * A pôle prints its recall letters (issue 27): the patients whose protocol activity is due, as the
 * follow-up view lists them, become a PDF of letters (read back here page by page) or a mail-merge
 * CSV, from the pôle's template; each printing is in the trail; no one prints for a patient outside
 * their équipe de soins.
 */
const SCOPE = 'openid fhirUser user/*.cruds';
const APP = 'recall-letters-app';

const recall = (r: DueRow) => ({
  name: 'recall',
  part: [
    { name: 'plan', valueReference: { reference: `CarePlan/${r.plan}` } },
    { name: 'activity', valueInteger: r.activityIndex },
  ],
});
const parameters = (rows: DueRow[], more: object[] = []) => ({ resourceType: 'Parameters', parameter: [...rows.map(recall), ...more] });

async function pdfPages(data: string): Promise<string[]> {
  const parsed = await new PDFParse({ data: Buffer.from(data, 'base64') }).getText();
  return parsed.pages.map((p) => p.text.replace(/\s+/g, ' '));
}

describe.each(DATABASES)('recall letters on the demo pôle, on %s', (kind) => {
  const t = useServer(kind, { auth: true, seed: 'demo', ...OPERATOR });
  const tokens = {} as Record<'operator' | 'aurelie' | 'anne', string>;
  const today = parisToday(new Date());

  beforeAll(async () => {
    tokens.operator = await operatorToken(t.server.url);
    await registerApp(t.server.url, { client_id: APP, token_endpoint_auth_method: 'none', redirect_uris: [APP_REDIRECT], scope: SCOPE });
    const roles = { aurelie: ROLE.coordinatorMsp, anne: ROLE.pharmacistLemoine };
    for (const [username, role] of Object.entries(roles)) {
      const login = t.server.demoLogins?.find((l) => l.username === username);
      if (!login) throw new Error(`no demo login ${username}`);
      tokens[username as keyof typeof roles] = await userToken(t.server.url, { clientId: APP, scope: SCOPE, username, password: login.password, role });
    }
  });
  const as = (who: keyof typeof tokens, method: string, path: string, body?: unknown) => call(method, `${t.server.base}/${path}`, tokens[who], body);
  /** The follow-up view's list, as the app computes it for this user. */
  async function dueFor(who: keyof typeof tokens): Promise<DueRow[]> {
    const day = (n: number) => new Date(today.getTime() + n * 86_400_000).toISOString().slice(0, 10);
    const plans = await as(who, 'GET', `CarePlan?status=active&activity-date=ge${day(-30)}&activity-date=le${day(30)}&_include=CarePlan:subject&_count=1000`);
    const protocols = await as(who, 'GET', 'PlanDefinition?status=active&_count=100');
    const defs = (protocols.body as Bundle).entry?.map((e) => e.resource as PlanDefinition) ?? [];
    return dueActivities(plans.body as Bundle, defs, today);
  }
  const patient = async (id: string) => (await as('operator', 'GET', `Patient/${id}`)).body as Patient;
  /** The trail of the printings of a patient's letters. */
  async function printings(patientId: string) {
    const trail = await as('operator', 'GET', `AuditEvent?patient=Patient/${patientId}&_count=200`);
    return (trail.body.entry ?? []).map((e: any) => e.resource).filter((a: any) => a.subtype?.[0]?.display === '$recall-letters');
  }

  it('prints a letter per activity due, with the patient’s name and address and the professional’s details, traced', async () => {
    const rows = (await dueFor('aurelie')).slice(0, 3);
    expect(rows.length).toBe(3);
    const reply = await as('aurelie', 'POST', 'CarePlan/$recall-letters', parameters(rows));
    expect(reply.status).toBe(200);
    expect(reply.body).toMatchObject({ resourceType: 'Binary', contentType: 'application/pdf' });
    const pages = await pdfPages(reply.body.data);
    expect(pages.length).toBe(3);
    for (const [i, row] of rows.entries()) {
      const p = await patient(row.patientId);
      const address = p.address?.[0];
      const text = pages[i];
      expect(text).toContain(`${p.gender === 'female' ? 'Madame' : 'Monsieur'} ${p.name?.[0].given?.[0]} ${p.name?.[0].family}`);
      expect(text).toContain(address?.line?.[0]);
      expect(text).toContain(`${address?.postalCode} ${address?.city}`);
      expect(text).toContain(row.activity);
      expect(text).toContain('Aurélie Le Gall');
      expect(text).toContain('Maison de santé');
    }
    const trail = await printings(rows[0].patientId);
    expect(trail.length).toBe(1);
    const event = trail[0];
    expect(event.agent[0].who.reference).toBe(`PractitionerRole/${ROLE.coordinatorMsp}`);
    const entities = event.entity.map((e: any) => e.what.reference ?? e.what.display);
    for (const row of rows) expect(entities).toContain(`Patient/${row.patientId}`);
    expect(entities.some((r: string) => r?.startsWith(`CarePlan/${rows[0].plan}/_history/`))).toBe(true);
    const query = event.entity.find((e: any) => e.query);
    expect(Buffer.from(query.query, 'base64').toString()).toBe('format=pdf&letters=3');
  });

  it('exports the same letters as a mail-merge CSV, one line each with the postal address', async () => {
    const rows = (await dueFor('aurelie')).slice(0, 4);
    const reply = await as('aurelie', 'POST', 'CarePlan/$recall-letters', parameters(rows, [{ name: 'format', valueCode: 'csv' }]));
    expect(reply.status).toBe(200);
    expect(reply.body.contentType).toBe('text/csv; charset=utf-8');
    const csv = Buffer.from(reply.body.data, 'base64').toString('utf8');
    const lines = csv.split('\r\n').filter(Boolean);
    expect(lines[0]).toBe(
      '\uFEFF"Civilité";"Prénom";"Nom";"Adresse";"Complément d’adresse";"Code postal";"Ville";"Protocole";"Activité";"Échéance";"Professionnel";"Structure";"Téléphone"',
    );
    expect(lines.length).toBe(rows.length + 1);
    for (const [i, row] of rows.entries()) {
      const p = await patient(row.patientId);
      const cells = lines[i + 1].split(';').map((c) => c.slice(1, -1));
      expect(cells.slice(0, 7)).toEqual([
        p.gender === 'female' ? 'Madame' : 'Monsieur',
        p.name?.[0].given?.[0],
        p.name?.[0].family,
        p.address?.[0].line?.[0],
        '',
        p.address?.[0].postalCode,
        p.address?.[0].city,
      ]);
      expect(cells[8]).toBe(row.activity);
    }
    expect((await printings(rows[3].patientId)).length).toBeGreaterThan(0);
  });

  it('prints for the patients of the user’s équipe only: one outside it is refused, and the refusal traced', async () => {
    const [theirs, mine] = [await dueFor('aurelie'), await dueFor('anne')];
    expect(mine.length).toBeGreaterThan(0);
    expect(mine.length).toBeLessThan(theirs.length);
    const minePatients = new Set(mine.map((r) => r.patientId));
    const outside = theirs.find((r) => !minePatients.has(r.patientId)) as DueRow;
    const refused = await as('anne', 'POST', 'CarePlan/$recall-letters', parameters([mine[0], outside]));
    expect(refused.status).toBe(403);
    expect(refused.body.resourceType).toBe('OperationOutcome');
    expect(JSON.stringify(refused.body)).not.toContain((await patient(outside.patientId)).name?.[0].family);
    const trail = await as('operator', 'GET', `AuditEvent?agent=PractitionerRole/${ROLE.pharmacistLemoine}&outcome=4&_count=100`);
    expect(trail.body.entry?.some((e: any) => e.resource.subtype?.[0]?.display === '$recall-letters')).toBe(true);
    // Her own patients' letters she prints, signed with her name.
    const own = await as('anne', 'POST', 'CarePlan/$recall-letters', parameters([mine[0]]));
    expect(own.status).toBe(200);
    expect((await pdfPages(own.body.data))[0]).toContain('Anne Lemoine');
  });

  it('prints from the pôle’s own template once saved, and refuses one naming an unknown placeholder', async () => {
    const [row] = await dueFor('aurelie');
    const library = (text: string) => ({
      resourceType: 'Library',
      url: RECALL_TEMPLATE_URL,
      status: 'active',
      title: 'Courrier de relance',
      type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/library-type', code: 'asset-collection' }] },
      content: [{ contentType: 'text/plain; charset=utf-8', data: Buffer.from(text).toString('base64') }],
    });
    const saved = await as('aurelie', 'POST', 'Library', library('Objet : relance\n\nBonjour {{prenom}}, pensez à : {{activite}} (avant le {{echeance}}).'));
    expect(saved.status).toBe(201);
    const reply = await as('aurelie', 'POST', 'CarePlan/$recall-letters', parameters([row]));
    const p = await patient(row.patientId);
    expect((await pdfPages(reply.body.data))[0]).toContain(`Bonjour ${p.name?.[0].given?.[0]}, pensez à : ${row.activity}`);
    const entities = (await printings(row.patientId)).flatMap((a: any) => a.entity.map((e: any) => e.what.reference));
    expect(entities).toContain(`Library/${saved.body.id}/_history/1`);
    const typo = await as('aurelie', 'PUT', `Library/${saved.body.id}`, { ...library('Bonjour {{prénom}}'), id: saved.body.id });
    expect(typo.status).toBe(200);
    const refused = await as('aurelie', 'POST', 'CarePlan/$recall-letters', parameters([row]));
    expect(refused.status).toBe(422);
    expect(refused.body.issue[0].diagnostics).toContain('{{prénom}}');
  });

  it('answers bad requests with an OperationOutcome', async () => {
    const [row] = await dueFor('aurelie');
    const cases: [unknown, number][] = [
      [{ resourceType: 'Parameters' }, 400],
      [parameters([row], [{ name: 'format', valueCode: 'docx' }]), 400],
      [{ resourceType: 'Parameters', parameter: [{ name: 'recall', part: [{ name: 'plan', valueReference: { reference: 'Patient/x' } }] }] }, 400],
      [parameters([{ ...row, plan: 'no-such-plan' }]), 404],
      [parameters([{ ...row, activityIndex: 99 }]), 422],
    ];
    for (const [body, status] of cases) {
      const reply = await as('aurelie', 'POST', 'CarePlan/$recall-letters', body);
      expect([body, reply.status, reply.body.resourceType]).toEqual([body, status, 'OperationOutcome']);
    }
  });
});
