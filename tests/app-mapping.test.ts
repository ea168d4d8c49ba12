import type {
  Appointment,
  Bundle,
  CarePlan,
  CareTeam,
  Consent,
  Encounter,
  Goal,
  Patient,
  PlanDefinition,
  PractitionerRole,
  Reference,
  Resource,
  Schedule,
  Slot,
  Task,
} from '@medplum/fhirtypes';
import { describe, expect, it } from 'vitest';
import { careLinks } from '../server/access/care-links.js';
import { COORDINATION } from '../server/fhir/vocabulary.js';
import { buildDemo } from '../seed/demo/index.js';
import { batchAnswers, ResourceIndex, saveTransaction } from '../app/src/fhir/bundle.js';
import { meetingCases, meetingTransaction, reportText } from '../app/src/fhir/concertation.js';
import { breakGlassRequest, breakGlassUntil, oppositionConsent, oppositions, withdrawn } from '../app/src/fhir/consent.js';
import { directorySearches, localSuggestions } from '../app/src/fhir/directory.js';
import { dueActivities } from '../app/src/fhir/followup.js';
import { codeText, frenchDate, labelLines, parisInstant, parisToday, patientName, professionLabel } from '../app/src/fhir/format.js';
import { stayRows } from '../app/src/fhir/hospital.js';
import { aciFromParameters } from '../app/src/fhir/indicators.js';
import { careTeamMembers, identity, patientSearchQuery, withMember, withMemberEnded } from '../app/src/fhir/patient.js';
import { ppcsForm, ppcsTransaction } from '../app/src/fhir/ppcs.js';
import { accessRows } from '../app/src/fhir/record.js';
import { bookParameters, slotRows, slotSearchQuery, unansweredRequest } from '../app/src/fhir/snp.js';
import { closedTask, newTask, taskRows } from '../app/src/fhir/tasks.js';

const TODAY = new Date('2026-03-10T00:00:00Z');
/** The demo pôle dated around TODAY: the same data the app shows. */
const demo = buildDemo(TODAY);
const byId = <T extends Resource>(type: T['resourceType'], id: string) => demo.find((r) => r.resourceType === type && r.id === id) as T;
const searchset = (matches: Resource[], includes: Resource[] = []): Bundle => ({
  resourceType: 'Bundle',
  type: 'searchset',
  entry: [
    ...matches.map((resource) => ({ resource, search: { mode: 'match' as const } })),
    ...includes.map((resource) => ({ resource, search: { mode: 'include' as const } })),
  ],
});
const patients = demo.filter((r): r is Patient => r.resourceType === 'Patient');

describe('the app’s mapping of FHIR data', () => {
  it('orders tasks overdue first, then by due date, and names their patient', () => {
    const tasks: Task[] = [
      {
        resourceType: 'Task',
        id: 'later',
        status: 'requested',
        intent: 'order',
        description: 'b',
        for: { reference: 'Patient/pat-0001' },
        restriction: { period: { end: '2026-03-20T18:00:00Z' } },
      },
      { resourceType: 'Task', id: 'none', status: 'requested', intent: 'order', description: 'c' },
      { resourceType: 'Task', id: 'late', status: 'in-progress', intent: 'order', description: 'a', restriction: { period: { end: '2026-03-01T18:00:00Z' } } },
      {
        resourceType: 'Task',
        id: 'done-late',
        status: 'completed',
        intent: 'order',
        description: 'd',
        restriction: { period: { end: '2026-02-01T18:00:00Z' } },
      },
    ];
    const rows = taskRows(searchset(tasks, [byId('Patient', 'pat-0001')]), TODAY);
    expect(rows.map((r) => [r.id, r.overdue, r.dueIn])).toEqual([
      ['late', true, -9],
      ['done-late', false, -37],
      ['later', false, 10],
      ['none', false, undefined],
    ]);
    expect(rows[2].patient).toEqual({ id: 'pat-0001', name: patientName(byId<Patient>('Patient', 'pat-0001').name) });
  });

  it('flags the discharges that have no post-discharge follow-up task', () => {
    const discharges = demo.filter((r) => r.resourceType === 'Encounter' && r.id?.endsWith('-sejour-sortie'));
    const tasks = demo.filter((r) => r.resourceType === 'Task' && r.id?.endsWith('-suivi-sortie'));
    const rows = stayRows(searchset(discharges, tasks));
    expect(rows).toHaveLength(discharges.length);
    expect(rows.filter((r) => !r.followUp).length).toBe(discharges.length - tasks.length);
    expect(rows.filter((r) => !r.followUp).length).toBeGreaterThan(0);
    expect(rows.every((r) => r.service && r.reason)).toBe(true);
  });

  it('reads the identity status and the INS of the banner', () => {
    const validated = patients.find((p) => p.identifier)!;
    const provisional = patients.find((p) => !p.identifier)!;
    // "née" for a woman, "né" for a man, "né(e)" only when the sex is unknown (issue 27).
    expect((['female', 'male', undefined] as const).map((gender) => identity({ ...validated, gender }, TODAY).born)).toEqual(['née', 'né', 'né(e)']);
    expect(identity(validated, TODAY)).toMatchObject({ status: 'Identité validée', statusCode: 'VALI', ins: { kind: 'INS-NIR de démonstration' } });
    expect(identity(provisional, TODAY)).toMatchObject({ status: 'Identité provisoire', statusCode: 'PROV' });
    expect(identity(provisional, TODAY).ins).toBeUndefined();
  });

  it('resolves the cercle de soins members to people, roles, structures and contacts; ends and adds members', () => {
    const team = demo.find((r): r is CareTeam => r.resourceType === 'CareTeam' && (r.participant?.length ?? 0) >= 3)!;
    const refs = team.participant!.map((p) => p.member!.reference!);
    const roles = demo.filter((r) => refs.includes(`PractitionerRole/${r.id}`));
    const people = demo.filter((r) => r.resourceType === 'Practitioner' || r.resourceType === 'Organization');
    const members = careTeamMembers(team, new ResourceIndex(searchset([team], [...roles, ...people])), '2026-03-10');
    const gp = members.find((m) => m.roles === 'Médecin traitant')!;
    expect(gp.name).toMatch(/^Dr /);
    expect(gp.phone).toMatch(/^02 99/);
    expect(gp.email).toMatch(/@val-de-lys\.mssante\.fr$/);
    const ended = withMemberEnded(team, gp.index, '2026-03-10');
    expect(ended.participant![gp.index].period).toEqual({ start: team.participant![gp.index].period!.start, end: '2026-03-10' });
    const added = withMember(team, { reference: 'PractitionerRole/x' }, [{ text: 'Professionnel' }], '2026-03-10');
    expect(added.participant).toHaveLength(team.participant!.length + 1);
    expect(team.participant).toHaveLength(members.length);
  });

  it('revises a PPCS in one transaction, If-Match the versions read, new goals created with it', () => {
    const plan = { ...demo.find((r): r is CarePlan => r.resourceType === 'CarePlan' && r.id!.startsWith('ppcs-'))!, meta: { versionId: '3' } };
    const goals = plan.goal!.map((g) => ({ ...byId<Goal>('Goal', g.reference!.slice(5)), meta: { versionId: '1' } }));
    const form = ppcsForm(plan, goals, '2026-03-10', 'x');
    expect(form.goals.map((g) => g.text)).toEqual(goals.map((g) => g.description.text));
    form.goals[0].achievement = 'achieved';
    form.goals.push({ text: 'Nouvel objectif', achievement: 'in-progress' });
    form.activities.push({ description: 'Appel', status: 'not-started' });
    const tx = ppcsTransaction(form, { patient: plan.subject as never, plan, goals, labels: new Map() });
    const requests = tx.entry!.map((e) => `${e.request!.method} ${e.request!.url} ${e.request!.ifMatch ?? ''}`.trim());
    expect(requests).toEqual([`PUT Goal/${goals[0].id} W/"1"`, 'POST Goal', `PUT CarePlan/${plan.id} W/"3"`]);
    const written = tx.entry!.at(-1)!.resource as CarePlan;
    expect(written.goal!.at(-1)!.reference).toBe(tx.entry![1].fullUrl);
    expect(written.activity).toHaveLength(plan.activity!.length + 1);
  });

  it('creates a PPCS, a task, a meeting with its cases as transactions', () => {
    const form = ppcsForm(undefined, [], '2026-03-10', 'DUPONT Jean');
    expect(form).toMatchObject({ title: 'PPCS — DUPONT Jean', status: 'draft' });
    expect(ppcsTransaction(form, { patient: { reference: 'Patient/p' }, goals: [], labels: new Map() }).entry![0].request).toEqual({
      method: 'POST',
      url: 'CarePlan',
    });
    const task: Task = { resourceType: 'Task', id: 't', meta: { versionId: '2' }, status: 'requested', intent: 'order' };
    expect(saveTransaction(task).entry![0].request).toEqual({ method: 'PUT', url: 'Task/t', ifMatch: 'W/"2"' });
    const meeting = meetingTransaction({
      start: '2026-03-01T12:30:00Z',
      end: '2026-03-01T14:00:00Z',
      description: 'c',
      attendees: [],
      held: false,
      cases: [{ patient: { reference: 'Patient/p' }, reason: 'n', conclusion: '', flag: task }],
    });
    expect(meeting.entry!.map((e) => `${e.request!.method} ${e.request!.url}`)).toEqual(['POST Appointment', 'POST Encounter', 'PUT Task/t']);
    expect((meeting.entry![1].resource as { appointment: { reference: string }[] }).appointment[0].reference).toBe(meeting.entry![0].fullUrl);
    expect(meeting.entry![2].resource).toMatchObject({ status: 'accepted', output: [{ valueReference: { reference: meeting.entry![1].fullUrl } }] });
  });

  it('edits a planned concertation: date, participants, one more case, one taken off; then held with its conclusions (issue 27)', () => {
    const meeting = byId<Appointment>('Appointment', 'concertation-3');
    expect(meeting.status).toBe('booked');
    const flagged = demo.filter((r): r is Task => r.resourceType === 'Task' && !!r.id?.endsWith('-a-concerter'));
    const [first, second] = flagged.map((t) => ({ ...t, meta: { versionId: '1' } }));
    // Planned with two flagged cases, as the app writes it; then read back as the server would store it.
    const planned = meetingTransaction({
      appointment: { ...meeting, meta: { versionId: '1' } },
      start: meeting.start!,
      end: meeting.end!,
      description: meeting.description!,
      attendees: meeting.participant!.map((p) => p.actor as Reference<PractitionerRole>),
      held: false,
      cases: [first, second].map((flag) => ({ patient: flag.for as Reference<Patient>, reason: flag.description!, conclusion: '', flag })),
    });
    expect(planned.entry!.map((e) => `${e.request!.method} ${e.request!.url} ${e.request!.ifMatch ?? ''}`.trim())).toEqual([
      'PUT Appointment/concertation-3 W/"1"',
      'POST Encounter',
      `PUT Task/${first.id} W/"1"`,
      'POST Encounter',
      `PUT Task/${second.id} W/"1"`,
    ]);
    const stored = (i: number, id: string) => ({ ...planned.entry![i].resource, id, meta: { versionId: '1' } });
    const encounters = [stored(1, 'e1'), stored(3, 'e2')].map((e) => ({ ...e, appointment: [{ reference: 'Appointment/concertation-3' }] })) as Encounter[];
    const tasks = [stored(2, first.id!), stored(4, second.id!)].map((t, i) => ({
      ...t,
      output: [{ type: COORDINATION.concertation, valueReference: { reference: `Encounter/e${i + 1}` } }],
    })) as Task[];
    const recorded = meetingCases({ ...meeting, meta: { versionId: '2' } }, searchset(encounters), searchset(tasks));
    expect(recorded.map((c) => [c.encounter?.id, c.flag?.id, c.reason])).toEqual([
      ['e1', first.id, first.description],
      ['e2', second.id, second.description],
    ]);
    // Then held: a day earlier, one more attendee, the second case taken off, a patient added, conclusions written.
    const added = patients[0];
    const held = meetingTransaction({
      appointment: { ...meeting, meta: { versionId: '2' } },
      start: '2026-03-09T11:30:00Z',
      end: '2026-03-09T13:00:00Z',
      description: meeting.description!,
      attendees: [...meeting.participant!.map((p) => p.actor as Reference<PractitionerRole>), { reference: 'PractitionerRole/other' }],
      held: true,
      cases: [
        { ...recorded[0], conclusion: 'Renforcer le passage infirmier' },
        { patient: { reference: `Patient/${added.id}` }, reason: 'Chutes répétées', conclusion: 'Bilan kiné' },
      ],
      removed: [recorded[1]],
      author: { reference: 'PractitionerRole/me' },
    });
    expect(held.entry!.map((e) => `${e.request!.method} ${e.request!.url} ${e.request!.ifMatch ?? ''}`.trim())).toEqual([
      'PUT Appointment/concertation-3 W/"2"',
      'PUT Encounter/e1 W/"1"',
      `PUT Task/${first.id} W/"1"`,
      'POST DocumentReference',
      'POST Encounter',
      'POST DocumentReference',
      'PUT Encounter/e2 W/"1"',
      `PUT Task/${second.id} W/"1"`,
    ]);
    const [appointment, kept, flag, report, , newReport, cancelled, back] = held.entry!.map((e) => e.resource as any);
    expect(appointment).toMatchObject({ status: 'fulfilled', start: '2026-03-09T11:30:00Z' });
    expect(appointment.participant).toHaveLength(meeting.participant!.length + 1);
    expect(kept).toMatchObject({ status: 'finished', period: { start: '2026-03-09T11:30:00Z' }, appointment: [{ reference: 'Appointment/concertation-3' }] });
    expect(kept.participant).toHaveLength(meeting.participant!.length + 1);
    expect(flag.status).toBe('completed');
    expect(report).toMatchObject({
      status: 'current',
      subject: first.for,
      author: [{ reference: 'PractitionerRole/me' }],
      context: { encounter: [{ reference: 'Encounter/e1' }] },
    });
    expect(reportText(report)).toBe('Renforcer le passage infirmier');
    expect(newReport.context.encounter[0].reference).toBe(held.entry![4].fullUrl);
    expect(cancelled.status).toBe('cancelled');
    expect(back).toMatchObject({ status: 'requested' });
    expect(back.output).toBeUndefined();
    // Read back with its compte rendu, the case gives its conclusion.
    const withReport = meetingCases(meeting, searchset([{ ...kept, id: 'e1' }], [{ ...report, id: 'd1' }]), undefined);
    expect(withReport[0]).toMatchObject({ conclusion: 'Renforcer le passage infirmier', report: { id: 'd1' } });
  });

  it('lists the protocol activities due within 30 days, each naming its plan and activity for the recall letters', () => {
    const protocols = demo.filter((r): r is PlanDefinition => r.resourceType === 'PlanDefinition');
    const plans = demo.filter((r): r is CarePlan => r.resourceType === 'CarePlan' && !!r.instantiatesCanonical);
    const rows = dueActivities(searchset(plans, patients), protocols, TODAY);
    expect(rows.length).toBeGreaterThan(0);
    expect(rows.every((r) => r.dueIn <= 30 && r.protocol.startsWith('Protocole') && r.patient)).toBe(true);
    for (const r of rows) {
      const detail = plans.find((p) => p.id === r.plan)?.activity?.[r.activityIndex].detail;
      expect(detail?.description ?? codeText(detail?.code)).toBe(r.activity);
    }
  });

  it('builds the directory searches from what was typed', () => {
    expect(directorySearches({ name: 'Morvan', commune: '', identifier: '' }).roles).toContain('practitioner.name=Morvan');
    expect(directorySearches({ name: '', commune: '', identifier: '10001000111' })).toEqual({
      roles: expect.stringContaining(`practitioner.identifier=${encodeURIComponent('https://rpps.esante.gouv.fr|10001000111')}`),
    });
    expect(directorySearches({ name: '', commune: '', identifier: '350009039' })).toEqual({ structures: expect.stringContaining('identifier=') });
    const spec = directorySearches({
      name: '',
      commune: '',
      identifier: '',
      speciality: { system: 'https://mos.esante.gouv.fr/NOS/TRE_R38-SpecialiteOrdinale/FHIR/TRE-R38-SpecialiteOrdinale', code: 'SM54' },
    });
    expect(spec.roles).toContain('specialty=');
    expect(spec.structures).toBeUndefined();
    const roles = searchset(demo.filter((r) => r.resourceType === 'PractitionerRole'));
    expect(localSuggestions(roles, 'generale').map((c) => c.display)).toEqual(['Médecine générale']);
  });

  it('counts concertation cases per month and distinct patients; names who accessed a record', () => {
    const aci = aciFromParameters({
      resourceType: 'Parameters',
      parameter: [
        { name: 'year', valueInteger: 2026 },
        {
          name: 'figure',
          part: [
            { name: 'name', valueString: 'cases' },
            { name: 'label', valueString: 'Dossiers revus en concertation' },
            { name: 'value', valueInteger: 7 },
            { name: 'list', valueString: 'Encounter?status=finished' },
          ],
        },
        { name: 'patientsReviewed', valueInteger: 6 },
        {
          name: 'casesByMonth',
          part: [
            { name: 'month', valueInteger: 3 },
            { name: 'value', valueInteger: 7 },
          ],
        },
      ],
    });
    expect(aci.figures).toEqual([{ name: 'cases', label: 'Dossiers revus en concertation', value: 7, list: 'Encounter?status=finished' }]);
    expect([aci.patientsReviewed, aci.months[2], aci.months.reduce((a, b) => a + b)]).toEqual([6, 7, 7]);
    const audit = searchset(
      [
        {
          resourceType: 'AuditEvent',
          type: { code: 'rest' },
          subtype: [{ code: 'read' }],
          recorded: '2026-03-09T10:00:00Z',
          agent: [{ requestor: true, who: { reference: 'PractitionerRole/r' } }],
          source: { observer: {} },
        },
      ],
      [{ resourceType: 'PractitionerRole', id: 'r', practitioner: { display: 'Aurélie Le Gall' }, organization: { display: 'MSP' } }],
    );
    expect(accessRows(audit)).toEqual([{ when: '2026-03-09T10:00:00Z', who: 'Aurélie Le Gall, MSP', action: 'Consultation', outcome: 'Réussi' }]);
    expect(frenchDate('2026-03-09')).toBe('09/03/2026');
  });

  it('tells failed batch entries from search results', () => {
    const reply: Bundle = {
      resourceType: 'Bundle',
      type: 'batch-response',
      entry: [{ response: { status: '200 OK' }, resource: searchset([]) }, { response: { status: '403 Forbidden' } }],
    };
    expect(batchAnswers(reply).map((a) => a.ok || a.status)).toEqual([true, 403]);
  });

  it('finds a patient by family and given in any order, birth date, INS or identifier (issue 27)', () => {
    const params = (q: string) => [...new URLSearchParams(q.split('?')[1])].filter(([k]) => !k.startsWith('_'));
    expect(params(patientSearchQuery('Marie Dupont'))).toEqual([
      ['name', 'Marie'],
      ['name', 'Dupont'],
    ]);
    expect(params(patientSearchQuery(' dupont  12/3/1950 '))).toEqual([
      ['name', 'dupont'],
      ['birthdate', '1950-03-12'],
    ]);
    expect(params(patientSearchQuery('1950-03-12'))).toEqual([['birthdate', '1950-03-12']]);
    expect(params(patientSearchQuery('2 55 08 35 123 456 78'))).toEqual([['identifier', '255083512345678']]);
  });

  it('wraps a chart’s long labels between words, never cutting them (issue 27)', () => {
    const label = 'Patients inclus — suivi du diabète de type 2';
    const lines = labelLines(label);
    expect(lines.join(' ')).toBe(label);
    expect(lines.every((l) => l.length <= 30)).toBe(true);
    expect(labelLines('Mars')).toEqual(['Mars']);
  });

  it('counts days and times in Paris, whatever the browser’s zone (issue 27)', () => {
    // 23:30 UTC on 31 December is already 1 January in Paris (UTC+1 in winter).
    expect(parisToday(new Date('2026-12-31T23:30:00Z')).toISOString()).toBe('2027-01-01T00:00:00.000Z');
    expect(parisToday(new Date('2026-07-01T21:59:00Z')).toISOString()).toBe('2026-07-01T00:00:00.000Z');
    // 12:30 typed: UTC+1 in winter, UTC+2 in summer.
    expect(parisInstant('2026-12-07', '12:30')).toBe('2026-12-07T11:30:00.000Z');
    expect(parisInstant('2026-07-07', '12:30')).toBe('2026-07-07T10:30:00.000Z');
    expect(parisInstant('2026-03-29', '03:30')).toBe('2026-03-29T01:30:00.000Z');
  });

  it('closes a task with its outcome, and asks nobody when there is no user (AUTH=off)', () => {
    const task: Task = { resourceType: 'Task', id: 't', status: 'accepted', intent: 'order', owner: { reference: 'PractitionerRole/r' } };
    const closed = closedTask(task, ' Consultation faite ', new Date('2026-03-10T09:00:00Z'));
    expect([closed.status, closed.output?.[0].valueString, closed.executionPeriod?.end]).toEqual([
      'completed',
      'Consultation faite',
      '2026-03-10T09:00:00.000Z',
    ]);
    const created = newTask({
      patient: { reference: 'Patient/p' },
      kind: 'autre',
      description: 'x',
      owner: { reference: 'Organization/o' },
      due: '2026-03-12',
      now: TODAY,
    });
    expect(created.requester).toBeUndefined();
    expect(created.restriction?.period?.end).toBe('2026-03-12T17:00:00.000Z');
  });

  it('names what a professional does by profession, in the feminine for a woman (issue 27)', () => {
    const role = (id: string) => byId<PractitionerRole>('PractitionerRole', id);
    expect(professionLabel(role('role-lucie-tanguy-ch-lysmont'), 'female')).toBe('Infirmière');
    expect(professionLabel(role('role-anne-lemoine-pharmacie-place'), 'female')).toBe('Pharmacienne');
    expect(professionLabel(role('role-julien-legoff-msp-val-de-lys'), 'male')).toMatch(/^Médecin/);
    expect(professionLabel(role('role-thomas-lebihan-cabinet-kine-lys'), 'male')).toBe('Masseur-Kinésithérapeute');
  });

  it('soins non programmés: the slot search of the README, its rows earliest first with who and where, and the $book', () => {
    const now = new Date('2026-03-10T07:00:00Z');
    const query = new URLSearchParams(slotSearchQuery({ now, urgency: 'jour', specialty: 'SM54', modality: 'cabinet' }).replace(/^Slot\?/, ''));
    expect(query.getAll('start')).toEqual(['ge2026-03-10T07:00:00.000Z', 'le2026-03-11T07:00:00.000Z']);
    expect(query.get('status')).toBe('free');
    expect(query.get('specialty')).toBe('SM54');
    expect(query.get('service-type:not')).toBe('http://terminology.hl7.org/CodeSystem/v3-ActCode|VR');
    expect(query.get('service-type')).toBeNull();
    expect(query.get('_sort')).toBe('start');
    expect(new URLSearchParams(slotSearchQuery({ now, urgency: '48h', specialty: '', modality: 'teleconsultation' })).toString()).toContain(
      encodeURIComponent('le2026-03-12T07:00:00.000Z'),
    );
    const free = demo.filter((r): r is Slot => r.resourceType === 'Slot' && r.status === 'free');
    const tele = free.find((s) => s.serviceType?.[0].coding?.[0].code === 'VR') as Slot;
    const cabinet = free.find((s) => s.serviceType?.[0].coding?.[0].code === 'AMB' && s.start > tele.start) as Slot;
    const schedules = [tele, cabinet].map((s) => byId<Schedule>('Schedule', s.schedule.reference?.split('/')[1] as string));
    const actors = schedules.flatMap((s) => s.actor.map((a) => demo.find((r) => `${r.resourceType}/${r.id}` === a.reference) as Resource));
    const rows = slotRows(searchset([cabinet, tele], [...schedules, ...actors]));
    expect(rows.map((r) => r.id)).toEqual([tele.id, cabinet.id]);
    expect(rows.map((r) => r.teleconsultation)).toEqual([true, false]);
    expect(rows[0].professional).toMatch(/^Dr /);
    expect(rows[0].place).toMatch(/, \S/);
    expect(rows[0].specialty).toBe('Médecine générale');
    const book = bookParameters(tele.id as string, 'p1', ' Fièvre ', 'jour').parameter ?? [];
    expect(book.find((p) => p.name === 'slot')?.valueReference?.reference).toBe(`Slot/${tele.id}`);
    expect(book.find((p) => p.name === 'reason')?.valueCodeableConcept?.text).toBe('Fièvre');
    expect(book.find((p) => p.name === 'priority')?.valueInteger).toBe(1);
    expect(book.find((p) => p.name === 'serviceCategory')?.valueCodeableConcept?.coding?.[0].code).toBe('soins-non-programmes');
    const unanswered = unansweredRequest('p1', 'Fièvre', '48h', new Date('2026-03-02T10:00:00Z'));
    expect(unanswered).toMatchObject({ status: 'proposed', created: '2026-03-02T10:00:00.000Z', priority: 5, reasonCode: [{ text: 'Fièvre' }] });
    expect(unanswered.serviceCategory?.[0].coding?.[0].code).toBe('soins-non-programmes');
    expect(unanswered.slot).toBeUndefined();
  });

  it('tells the accesses of one view, its batch of searches, as one line (issue 27)', () => {
    const event = (recorded: string, role: string): Resource =>
      ({
        resourceType: 'AuditEvent',
        type: { code: 'rest' },
        subtype: [{ code: 'search-type' }],
        recorded,
        agent: [{ requestor: true, who: { reference: `PractitionerRole/${role}`, display: role } }],
        source: { observer: {} },
      }) as Resource;
    const rows = accessRows(
      searchset([
        event('2026-03-09T10:00:05Z', 'a'),
        event('2026-03-09T10:00:04Z', 'a'),
        event('2026-03-09T10:00:03Z', 'a'),
        event('2026-03-09T10:00:02Z', 'b'),
        event('2026-03-09T09:00:00Z', 'a'),
      ]),
    );
    expect(rows.map((r) => [r.when, r.who, r.action])).toEqual([
      ['2026-03-09T10:00:05Z', 'a', `${rows[0].action.split(' (')[0]} (3 requêtes)`],
      ['2026-03-09T10:00:02Z', 'b', rows[1].action],
      ['2026-03-09T09:00:00Z', 'a', rows[2].action],
    ]);
    expect(rows[1].action).not.toMatch(/requêtes/);
  });

  it('oppositions: read from the demo’s Consents, written and withdrawn as the server’s rules read them', () => {
    const consents = demo.filter((r): r is Consent => r.resourceType === 'Consent');
    const global = consents.find((c) => c.provision?.type === 'deny') as Consent;
    const towards = consents.find((c) => c.provision?.provision?.some((p) => p.type === 'deny')) as Consent;
    const open = consents.find((c) => c.provision?.type === 'permit' && !c.provision.provision) as Consent;
    expect(oppositions(searchset([global]))).toEqual([{ consent: global, since: global.dateTime }]);
    expect(oppositions(searchset([towards])).map((o) => o.actor?.reference)).toEqual([towards.provision?.provision?.[0].actor?.[0].reference?.reference]);
    expect(oppositions(searchset([open, { ...global, status: 'inactive' }]))).toEqual([]);
    const links = (c: Consent) => careLinks({ ...c, id: 'c' }, 'Consent', 'http://x/fhir')?.map((l) => `${l.kind} ${l.actor}`);

    // Recorded: global, or towards two professionals; the server reads the same oppositions.
    const base = { ...oppositionConsent('p1', [], '2026-03-10T10:00:00Z'), id: 'c1' };
    expect(links(base)).toEqual(['deny *']);
    const two = { ...oppositionConsent('p1', [{ reference: 'PractitionerRole/a' }, { reference: 'Organization/b' }], '2026-03-10T10:00:00Z'), id: 'c2' };
    expect(links(two)).toEqual(['deny PractitionerRole/a', 'deny Organization/b']);
    expect(oppositions(searchset([two, base])).map((o) => o.actor?.reference)).toEqual([undefined, 'PractitionerRole/a', 'Organization/b']);

    // Withdrawn: one actor leaves the other opposed; the last one, or the global, ends all opposition.
    const [first] = oppositions(searchset([two]));
    const one = withdrawn(first);
    expect(links(one)).toEqual(['deny Organization/b']);
    const none = withdrawn(oppositions(searchset([one]))[0]);
    expect(links(none)).toEqual([]);
    expect(none.provision).toEqual({ type: 'permit' });
    expect(withdrawn(oppositions(searchset([base]))[0]).status).toBe('inactive');
    // A deny at the top naming one actor never becomes a global opposition when it is withdrawn.
    const topDeny: Consent = { ...base, provision: { type: 'deny', actor: [{ role: { text: 'PRCP' }, reference: { reference: 'Practitioner/x' } }] } };
    expect(withdrawn(oppositions(searchset([topDeny]))[0]).status).toBe('inactive');
    // A nested deny restricting some data (no actor) stays when an actor's is withdrawn.
    const restricted: Consent = {
      ...two,
      provision: { type: 'permit', provision: [...(two.provision?.provision ?? []), { type: 'deny', class: [{ code: 'x' }] }] },
    };
    expect(withdrawn(oppositions(searchset([restricted]))[0]).provision?.provision).toEqual([
      { type: 'deny', actor: [{ role: two.provision?.provision?.[0].actor?.[0].role, reference: { reference: 'Organization/b' } }] },
      { type: 'deny', class: [{ code: 'x' }] },
    ]);
  });

  it('break-glass: the reason sent, the end of the access read back', () => {
    expect(breakGlassRequest('  Malaise au cabinet ')).toEqual({
      resourceType: 'Parameters',
      parameter: [{ name: 'reason', valueString: 'Malaise au cabinet' }],
    });
    expect(breakGlassUntil({ resourceType: 'Parameters', parameter: [{ name: 'until', valueInstant: '2026-03-10T12:00:00Z' }] })).toBe('2026-03-10T12:00:00Z');
  });
});
