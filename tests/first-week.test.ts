import type { Appointment, CarePlan, Consent, Encounter, Patient, PlanDefinition, Resource, Task } from '@medplum/fhirtypes';
import { patientSearchQuery } from '../app/src/fhir/patient.js';
import { beforeAll, describe, expect, it } from 'vitest';
import { SYSTEM } from '../server/fhir/vocabulary.js';
import { buildDemo, startOfDay } from '../seed/demo/index.js';
import { ROLE } from '../seed/demo/territory.js';
import { DATABASES, useServer } from './harness.js';
import { APP_REDIRECT, call, OPERATOR, operatorToken, registerApp, userToken } from './smart.js';

/**
 * The demo pôle's personas on the server, as issue 27 found them: the hospital's discharge nurse
 * sees the patients of her hospital's stays and the tasks she asked for; the ACI figures are the
 * pôle's whoever asks, and match counts computed here from the demo's own resources.
 */
const SCOPE = 'openid fhirUser user/*.cruds';
const APP = 'first-week-app';

/** The ACI figures of `year`, counted from the demo's resources, independently of the server's searches. */
function expectedFigures(demo: Resource[], year: number) {
  const [from, to] = [Date.parse(`${year}-01-01`), Date.parse(`${year + 1}-01-01`)];
  const inYear = (iso?: string) => !!iso && Date.parse(iso) >= from && Date.parse(iso) < to;
  const overlaps = (start?: string, end?: string) => (!start || Date.parse(start) < to) && (!end || Date.parse(end) >= from);
  const coded = (concepts: { coding?: { system?: string; code?: string }[] }[] | undefined, code: string) =>
    !!concepts?.some((c) => c.coding?.some((k) => k.system === SYSTEM.coordination && k.code === code));
  const of = <T extends Resource>(type: T['resourceType']) => demo.filter((r): r is T => r.resourceType === type);
  const held = (p: CarePlan) => p.status === 'active' || p.status === 'completed';
  const cases = of<Encounter>('Encounter').filter((e) => coded(e.type, 'concertation-pluripro') && e.status === 'finished' && inYear(e.period?.start));
  const figures: Record<string, number> = {
    ppcs: of<CarePlan>('CarePlan').filter((p) => coded(p.category, 'ppcs') && held(p) && overlaps(p.period?.start, p.period?.end)).length,
    meetings: of<Appointment>('Appointment').filter((a) => coded(a.serviceType, 'concertation-pluripro') && a.status === 'fulfilled' && inYear(a.start)).length,
    cases: cases.length,
  };
  for (const protocol of of<PlanDefinition>('PlanDefinition').filter((p) => p.status === 'active')) {
    figures[`protocol:${protocol.id}`] = of<CarePlan>('CarePlan').filter(
      (p) => !!p.instantiatesCanonical?.some((c) => c.split('|')[0] === protocol.url) && held(p) && overlaps(p.period?.start, p.period?.end),
    ).length;
  }
  return { figures, patientsReviewed: new Set(cases.map((e) => e.subject?.reference)).size };
}

/** The figures of a $aci-indicators answer, by name. */
function figuresOf(parameters: any) {
  const figures: Record<string, number> = {};
  for (const p of parameters.parameter.filter((x: any) => x.name === 'figure')) {
    const part = (name: string) => p.part.find((x: any) => x.name === name);
    figures[part('name').valueString] = part('value').valueInteger;
  }
  return { figures, patientsReviewed: parameters.parameter.find((x: any) => x.name === 'patientsReviewed').valueInteger };
}

describe.each(DATABASES)('a pôle’s first week on the demo, on %s', (kind) => {
  const t = useServer(kind, { auth: true, seed: 'demo', ...OPERATOR });
  const tokens = {} as Record<'operator' | 'aurelie' | 'claire' | 'lucie' | 'anne', string>;
  const demo = buildDemo(startOfDay(new Date()));

  beforeAll(async () => {
    tokens.operator = await operatorToken(t.server.url);
    await registerApp(t.server.url, { client_id: APP, token_endpoint_auth_method: 'none', redirect_uris: [APP_REDIRECT], scope: SCOPE });
    const roles = { aurelie: ROLE.coordinatorMsp, claire: ROLE.gpMorvan, lucie: ROLE.dischargeNurse, anne: ROLE.pharmacistLemoine };
    for (const [username, role] of Object.entries(roles)) {
      const login = t.server.demoLogins?.find((l) => l.username === username);
      if (!login) throw new Error(`no demo login ${username}`);
      tokens[username as keyof typeof roles] = await userToken(t.server.url, { clientId: APP, scope: SCOPE, username, password: login.password, role });
    }
  });
  const as = (who: keyof typeof tokens, path: string) => call('GET', `${t.server.base}/${path}`, tokens[who]);
  const ids = (reply: any) =>
    (reply.body.entry ?? [])
      .filter((e: any) => e.search?.mode !== 'include')
      .map((e: any) => e.resource.id)
      .sort();

  it('shows the discharge nurse the patients in her hospital now, planned, and just discharged, and the tasks she asked for', async () => {
    const hospital = new Set(
      demo.filter((r) => r.resourceType === 'Organization' && r.partOf?.reference === 'Organization/ch-lysmont').map((r) => `Organization/${r.id}`),
    );
    const stays = demo.filter((r): r is Encounter => r.resourceType === 'Encounter' && hospital.has(r.serviceProvider?.reference ?? ''));
    // A patient who objects to sharing (global opposition) stays hidden from her, rightly.
    const objecting = new Set(
      demo
        .filter((r): r is Consent => r.resourceType === 'Consent' && r.status === 'active' && r.provision?.type === 'deny' && !r.provision.actor)
        .map((c) => c.patient?.reference),
    );
    const now = stays.filter((e) => e.status === 'in-progress' && !objecting.has(e.subject?.reference)).map((e) => e.subject?.reference?.split('/')[1]);
    expect(now.length).toBeGreaterThan(3);
    const inHospital = await as('lucie', `Encounter?status=in-progress&class=IMP&_count=100`);
    expect(inHospital.status).toBe(200);
    expect(ids(inHospital).length).toBe(now.length);
    for (const patient of now) expect((await as('lucie', `Patient/${patient}`)).status).toBe(200);
    const asked = demo.filter((r): r is Task => r.resourceType === 'Task' && r.requester?.reference === `PractitionerRole/${ROLE.dischargeNurse}`);
    expect(asked.length).toBeGreaterThan(0);
    expect(ids(await as('lucie', `Task?requester=PractitionerRole/${ROLE.dischargeNurse}&_count=100`))).toEqual(asked.map((x) => x.id).sort());
    // Not the MSP's other patients: a patient with no stay at the hospital stays out of her reach.
    const stayed = new Set(stays.map((e) => e.subject?.reference));
    const other = demo.find((r) => r.resourceType === 'Patient' && !stayed.has(`Patient/${r.id}`));
    expect((await as('lucie', `Patient/${other?.id}`)).status).toBe(403);
  });

  it('lets a structure’s requests be taken on or passed on by its members only', async () => {
    const patient = (await as('claire', 'Patient?_count=1')).body.entry[0].resource.id as string;
    const request = (id: string, owner: string): Task => ({
      resourceType: 'Task',
      id,
      status: 'requested',
      intent: 'order',
      for: { reference: `Patient/${patient}` },
      requester: { reference: `PractitionerRole/${ROLE.gpMorvan}` },
      owner: { reference: `Organization/${owner}` },
    });
    const put = (who: keyof typeof tokens, task: Task) => call('PUT', `${t.server.base}/Task/${task.id}`, tokens[who], task);
    const dac = request('inbox-dac', 'dac-val-de-lys');
    const msp = request('inbox-msp', 'msp-val-de-lys');
    for (const task of [dac, msp]) expect((await put('operator', task)).status).toBe(201);
    const takenBy = (task: Task, role: string): Task => ({ ...task, status: 'accepted', owner: { reference: `PractitionerRole/${role}` } });

    // The DAC's request: not for the MSP's GP to take, nor to delete; its requester may still cancel it.
    const refused = await put('claire', takenBy(dac, ROLE.gpMorvan));
    expect(refused.status).toBe(403);
    expect(refused.body.issue[0].diagnostics).toContain('Organization/dac-val-de-lys');
    expect((await call('DELETE', `${t.server.base}/Task/${dac.id}`, tokens.claire)).status).toBe(403);
    expect((await put('claire', { ...dac, status: 'cancelled' })).status).toBe(200);
    // The MSP's: taken on by one of its own; the whole pôle's operator passes the DAC's on.
    expect((await put('claire', takenBy(msp, ROLE.gpMorvan))).status).toBe(200);
    expect((await put('operator', takenBy(dac, ROLE.coordinatorDac))).status).toBe(200);
  });

  it('gives the pôle’s ACI figures of the year asked, whoever of the pôle asks, as counted from the demo', async () => {
    for (const year of [new Date().getFullYear(), new Date().getFullYear() - 1]) {
      const expected = expectedFigures(demo, year);
      for (const who of ['operator', 'aurelie', 'claire'] as const) {
        const reply = await as(who, `$aci-indicators?year=${year}`);
        expect([who, year, reply.status]).toEqual([who, year, 200]);
        expect(figuresOf(reply.body)).toEqual(expected);
      }
    }
    // This year's held concertations are the two past ones: those planned are not counted.
    expect(expectedFigures(demo, new Date().getFullYear()).figures.meetings).toBeLessThan(demo.filter((r) => r.resourceType === 'Appointment').length);
    expect((await as('anne', '$aci-indicators')).status).toBe(403);
    expect((await as('aurelie', '$aci-indicators?year=abc')).status).toBe(400);
  });

  it('finds a patient by given and family in any order, by birth date and by identifier, as the app asks', async () => {
    const patient = demo.find((r): r is Patient => r.resourceType === 'Patient' && !!r.identifier?.length && !!r.birthDate) as Patient;
    const [family, given] = [patient.name?.[0].family as string, patient.name?.[0].given?.[0] as string];
    const found = async (query: string) => ids(await as('aurelie', query));
    const queries = [
      patientSearchQuery(`${given} ${family}`),
      patientSearchQuery(`${family.toUpperCase()} ${given}`),
      patientSearchQuery(`${family} ${patient.birthDate?.split('-').reverse().join('/')}`),
      patientSearchQuery(patient.identifier?.[0].value as string),
    ];
    for (const query of queries) expect([query, (await found(query)).includes(patient.id)]).toEqual([query, true]);
  });
});
