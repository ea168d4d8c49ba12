import type { Faker } from '@faker-js/faker';
import type {
  Appointment,
  CarePlan,
  CarePlanActivity,
  CareTeam,
  CareTeamParticipant,
  Condition,
  Consent,
  Encounter,
  Goal,
  Observation,
  PlanDefinition,
  Patient,
  Reference,
  Resource,
  Task,
} from '@medplum/fhirtypes';
import { MAILLAGE_CANONICAL } from '../server/fhir/maillage.js';
import { COORDINATION, SYSTEM, TEAM_ROLE, concept } from '../server/fhir/vocabulary.js';
import { references, type Pole } from './pole.js';
import type { GeneratedPatient } from './patients.js';

/** Days from the reference date, as a FHIR date or dateTime. */
export class Calendar {
  constructor(private readonly today: Date) {}
  date(days: number): string {
    return new Date(this.today.getTime() + days * 86_400_000).toISOString().slice(0, 10);
  }
  dateTime(days: number, hour = 9): string {
    return new Date(this.today.getTime() + days * 86_400_000 + hour * 3_600_000).toISOString();
  }
}

const PROBLEMS = [
  { key: 'diabete', code: 'E11', display: 'Diabète sucré de type 2', minAge: 40, p: 0.25 },
  { key: 'insuffisance-cardiaque', code: 'I50', display: 'Insuffisance cardiaque', minAge: 65, p: 0.18 },
  { key: 'hta', code: 'I10', display: 'Hypertension essentielle', minAge: 50, p: 0.35 },
  { key: 'bpco', code: 'J44', display: 'Bronchopneumopathie chronique obstructive', minAge: 50, p: 0.1 },
  { key: 'troubles-cognitifs', code: 'F03', display: 'Démence, sans précision', minAge: 75, p: 0.14 },
  { key: 'chutes', code: 'R29.6', display: 'Chutes à répétition', minAge: 75, p: 0.12 },
  { key: 'depression', code: 'F32', display: 'Épisode dépressif', minAge: 18, p: 0.07 },
] as const;
type ProblemKey = (typeof PROBLEMS)[number]['key'];

export const PROTOCOLS: PlanDefinition[] = [
  {
    resourceType: 'PlanDefinition',
    id: 'protocole-diabete',
    url: `${MAILLAGE_CANONICAL}/PlanDefinition/protocole-diabete`,
    version: '2024',
    name: 'ProtocoleDiabeteType2',
    title: 'Protocole pluriprofessionnel — suivi du diabète de type 2',
    status: 'active',
    description: 'Suivi partagé médecin, infirmier, pharmacien : HbA1c trimestrielle, examen des pieds, fond d’œil annuel.',
    action: [{ title: 'HbA1c trimestrielle' }, { title: 'Examen des pieds' }, { title: 'Fond d’œil annuel' }],
  },
  {
    resourceType: 'PlanDefinition',
    id: 'protocole-insuffisance-cardiaque',
    url: `${MAILLAGE_CANONICAL}/PlanDefinition/protocole-insuffisance-cardiaque`,
    version: '2024',
    name: 'ProtocoleInsuffisanceCardiaque',
    title: 'Protocole pluriprofessionnel — insuffisance cardiaque',
    status: 'active',
    description: 'Surveillance du poids, éducation thérapeutique, consultation de cardiologie semestrielle.',
    action: [{ title: 'Pesée hebdomadaire' }, { title: 'Consultation de cardiologie' }],
  },
];

/** Caps on the hospital situations the coordinators' views are built around. */
export interface Quotas {
  inHospital: number;
  planned: number;
  discharged: number;
  consents: number;
  oppositions: number;
  actorOppositions: number;
  appuiRequests: number;
  concertationFlags: number;
}

export const DEFAULT_QUOTAS: Quotas = {
  inHospital: 10,
  planned: 6,
  discharged: 8,
  consents: 30,
  oppositions: 5,
  actorOppositions: 3,
  appuiRequests: 10,
  concertationFlags: 6,
};

const LOINC = 'http://loinc.org';

/** What a patient's pathway produced that the shared, pôle-wide parts (concertations) draw on. */
export interface PathwaySummary {
  patient: Reference<Patient>;
  complex: boolean;
  gp: string;
}

/** One patient's coordinated pathway: problems, cercle de soins, stays, PPCS, protocols, tasks, consent. */
export function makePathway(f: Faker, p: GeneratedPatient, cal: Calendar, quotas: Quotas, pole: Pole): { resources: Resource[]; summary: PathwaySummary } {
  const pat = p.resource;
  const { org: orgRef, role: roleRef } = references(pole);
  const patient: Reference<Patient> = { reference: `Patient/${pat.id}`, display: `${pat.name?.[0].given?.[0]} ${pat.name?.[0].family}` };
  const out: Resource[] = [];
  const title = `${pat.gender === 'female' ? 'Mme' : 'M.'} ${pat.name?.[0].family}`;
  const inSatellite = p.commune === pole.satelliteCommune;
  const gp = f.helpers.arrayElement(inSatellite ? pole.satelliteGps : pole.gps);

  const problems = PROBLEMS.filter((x) => p.age >= x.minAge && f.number.float() < x.p);
  const has = (k: ProblemKey) => problems.some((x) => x.key === k);
  const conditions = problems.map(
    (x): Condition => ({
      resourceType: 'Condition',
      id: `${pat.id}-${x.key}`,
      clinicalStatus: concept(SYSTEM.conditionClinical, 'active', 'Active'),
      category: [concept(SYSTEM.conditionCategory, 'problem-list-item', 'Problem List Item')],
      code: concept(SYSTEM.icd10, x.code, x.display),
      subject: patient,
      onsetDateTime: cal.date(-f.number.int({ min: 200, max: 4000 })),
      recorder: roleRef(gp),
    }),
  );
  out.push(...conditions);
  const complex = (p.age >= 70 && problems.length >= 2) || has('troubles-cognitifs');

  // The cercle de soins (ANS CDS): médecin traitant, pharmacist, and whoever the situation calls for.
  const since = cal.date(-f.number.int({ min: 90, max: 2500 }));
  const member = (role: string, teamRole: CareTeamParticipant['role'], start = since, end?: string): CareTeamParticipant => ({
    role: teamRole,
    member: roleRef(role),
    period: { start, ...(end ? { end } : {}) },
  });
  const participants = [member(gp, [TEAM_ROLE.medecinTraitant]), member(f.helpers.arrayElement(pole.pharmacists), [TEAM_ROLE.professionnel])];
  if (p.age >= 70 || complex) participants.push(member(f.helpers.arrayElement(pole.nurses), [TEAM_ROLE.professionnel]));
  if (has('chutes') || has('bpco')) participants.push(member(f.helpers.arrayElement(pole.physios), [TEAM_ROLE.professionnel]));
  if (p.age >= 85) participants.push(member(pole.ssiadNurse, [TEAM_ROLE.professionnel]));
  if (complex) participants.push(member(pole.coordinator, [TEAM_ROLE.referent], cal.date(-f.number.int({ min: 30, max: 400 }))));
  if (complex && has('troubles-cognitifs'))
    participants.push(member(pole.dacCoordinator, [TEAM_ROLE.coordinateur], cal.date(-f.number.int({ min: 10, max: 200 }))));
  if (f.number.float() < 0.15) {
    // A former member: left the team, keeps no access (the équipe-de-soins rules test this case).
    participants.push(member(f.helpers.arrayElement(pole.nurses), [TEAM_ROLE.professionnel], cal.date(-900), cal.date(-f.number.int({ min: 30, max: 300 }))));
  }
  const careTeam: CareTeam = {
    resourceType: 'CareTeam',
    id: `cds-${pat.id}`,
    status: 'active',
    category: [concept(LOINC, 'LA28865-6', 'Longitudinal care-coordination focused care team')],
    name: `Cercle de soins de ${title}`,
    subject: patient,
    period: { start: since },
    participant: participants,
    managingOrganization: [orgRef(inSatellite ? pole.cpts : pole.msp)],
  };
  out.push(careTeam);

  // City consultations with the médecin traitant over the last year.
  for (let i = 0, n = f.number.int({ min: 1, max: 4 }); i < n; i++) {
    const day = -f.number.int({ min: 5, max: 360 });
    out.push({
      resourceType: 'Encounter',
      id: `${pat.id}-consult-${i + 1}`,
      status: 'finished',
      class: { system: SYSTEM.actCode, code: 'AMB', display: 'ambulatory' },
      type: [{ text: 'Consultation de médecine générale' }],
      subject: patient,
      participant: [{ individual: roleRef(gp) }],
      period: { start: cal.dateTime(day, 9), end: cal.dateTime(day, 9.5) },
      serviceProvider: orgRef(inSatellite ? pole.satellite : pole.msp),
    } satisfies Encounter);
    // What practice software records at a consultation: the weight, and the HbA1c of a diabetic.
    const encounter = { reference: `Encounter/${pat.id}-consult-${i + 1}` };
    const observation = (suffix: string, code: [string, string], category: string, value: number, unit: string, ucum: string): Observation => ({
      resourceType: 'Observation',
      id: `${pat.id}-consult-${i + 1}-${suffix}`,
      status: 'final',
      category: [concept('http://terminology.hl7.org/CodeSystem/observation-category', category, category === 'laboratory' ? 'Laboratory' : 'Vital Signs')],
      code: concept(LOINC, code[0], code[1]),
      subject: patient,
      encounter,
      effectiveDateTime: cal.dateTime(day, 9.2),
      performer: [roleRef(gp)],
      valueQuantity: { value, unit, system: 'http://unitsofmeasure.org', code: ucum },
    });
    out.push(observation('poids', ['29463-7', 'Body weight'], 'vital-signs', f.number.float({ min: 45, max: 110, fractionDigits: 1 }), 'kg', 'kg'));
    if (has('diabete'))
      out.push(
        observation(
          'hba1c',
          ['4548-4', 'Hemoglobin A1c/Hemoglobin.total in Blood'],
          'laboratory',
          f.number.float({ min: 5.5, max: 10, fractionDigits: 1 }),
          '%',
          '%',
        ),
      );
  }

  out.push(...hospitalStays(f, pat.id as string, patient, gp, cal, quotas, p.age, pole));
  if (complex) out.push(...ppcs(f, pat.id as string, patient, title, gp, careTeam, conditions, cal, pole));
  if (!inSatellite) out.push(...protocolPlans(f, pat.id as string, patient, gp, careTeam, has, cal, pole));
  if (complex && quotas.appuiRequests > 0 && f.number.float() < 0.4) {
    quotas.appuiRequests--;
    const assigned = f.number.float() < 0.5;
    out.push({
      resourceType: 'Task',
      id: `${pat.id}-appui`,
      status: assigned ? f.helpers.arrayElement(['accepted', 'in-progress'] as const) : 'requested',
      intent: 'order',
      code: COORDINATION.demandeAppui,
      description: f.helpers.arrayElement([
        'Maintien à domicile difficile, épuisement de l’aidant',
        'Situation complexe : polypathologie et isolement social',
        'Besoin d’évaluation gériatrique et de coordination des aides',
      ]),
      for: patient,
      requester: roleRef(gp),
      owner: assigned ? roleRef(pole.dacCoordinator) : orgRef(pole.dac),
      authoredOn: cal.dateTime(-f.number.int({ min: 1, max: 60 })),
    } satisfies Task);
  }
  out.push(...consent(f, pat.id as string, patient, pat.identifier !== undefined, cal, quotas, pole));
  return { resources: out, summary: { patient, complex, gp } };
}

function hospitalStays(f: Faker, id: string, patient: Reference<Patient>, gp: string, cal: Calendar, quotas: Quotas, age: number, pole: Pole): Resource[] {
  const { org: orgRef, role: roleRef } = references(pole);
  const out: Resource[] = [];
  const { service, doctor } = f.helpers.arrayElement(pole.hospital);
  const stay = (suffix: string, status: Encounter['status'], start: number, end?: number): Encounter => ({
    resourceType: 'Encounter',
    id: `${id}-sejour-${suffix}`,
    status,
    class: { system: SYSTEM.actCode, code: 'IMP', display: 'inpatient encounter' },
    type: [{ text: 'Hospitalisation complète' }],
    subject: patient,
    participant: [{ individual: roleRef(doctor) }],
    period: { start: cal.dateTime(start, 10), ...(end !== undefined ? { end: cal.dateTime(end, 15) } : {}) },
    reasonCode: [
      {
        text: f.helpers.arrayElement([
          'Décompensation cardiaque',
          'Chute avec fracture du col du fémur',
          'Pneumopathie',
          'Altération de l’état général',
          'Déséquilibre glycémique',
        ]),
      },
    ],
    serviceProvider: orgRef(service),
    ...(status === 'finished' ? { hospitalization: { dischargeDisposition: concept(SYSTEM.dischargeDisposition, 'home', 'Home') } } : {}),
  });
  const roll = f.number.float();
  if (age >= 60 && roll < 0.12 && quotas.inHospital > 0) {
    quotas.inHospital--;
    out.push(stay('en-cours', 'in-progress', -f.number.int({ min: 1, max: 12 })));
  } else if (roll < 0.18 && quotas.planned > 0) {
    quotas.planned--;
    out.push(stay('programme', 'planned', f.number.int({ min: 1, max: 14 })));
  } else if (age >= 60 && roll < 0.3 && quotas.discharged > 0) {
    quotas.discharged--;
    const end = -f.number.int({ min: 1, max: 6 });
    const encounter = stay('sortie', 'finished', end - f.number.int({ min: 2, max: 9 }), end);
    out.push(encounter);
    // Most discharges get their follow-up task; the coordinators' view flags the others.
    if (quotas.discharged % 3 !== 0) {
      out.push({
        resourceType: 'Task',
        id: `${id}-suivi-sortie`,
        status: 'requested',
        intent: 'order',
        code: COORDINATION.suiviPostHospitalisation,
        description: 'Consultation de suivi dans les 7 jours après la sortie',
        focus: { reference: `Encounter/${encounter.id}` },
        for: patient,
        requester: roleRef(pole.dischargeNurse),
        owner: roleRef(gp),
        authoredOn: cal.dateTime(end, 16),
        restriction: { period: { end: cal.dateTime(end + 7, 18) } },
      } satisfies Task);
    }
  } else if (roll < 0.4) {
    const end = -f.number.int({ min: 20, max: 300 });
    out.push(stay('ancien', 'finished', end - f.number.int({ min: 2, max: 12 }), end));
  }
  return out;
}

function ppcs(
  f: Faker,
  id: string,
  patient: Reference<Patient>,
  title: string,
  gp: string,
  careTeam: CareTeam,
  conditions: Condition[],
  cal: Calendar,
  pole: Pole,
): Resource[] {
  const { role: roleRef } = references(pole);
  const goals: Goal[] = f.helpers
    .arrayElements(
      [
        'Maintenir le patient à domicile dans de bonnes conditions',
        'Prévenir les chutes',
        'Soutenir et relayer l’aidant principal',
        'Sécuriser le circuit du médicament',
        'Stabiliser le poids et prévenir les décompensations',
      ],
      { min: 2, max: 3 },
    )
    .map((text, i) => ({
      resourceType: 'Goal',
      id: `${id}-objectif-${i + 1}`,
      lifecycleStatus: 'active',
      achievementStatus: concept(
        'http://terminology.hl7.org/CodeSystem/goal-achievement',
        i === 0 ? 'in-progress' : 'not-achieved',
        i === 0 ? 'In Progress' : 'Not Achieved',
      ),
      description: { text },
      subject: patient,
      target: [{ dueDate: cal.date(f.number.int({ min: 30, max: 180 })) }],
    }));
  const start = -f.number.int({ min: 20, max: 300 });
  const activity = (
    text: string,
    performer: string,
    from: number,
    to: number,
    status: NonNullable<CarePlanActivity['detail']>['status'],
  ): CarePlanActivity => ({
    detail: { status, description: text, code: { text }, scheduledPeriod: { start: cal.date(from), end: cal.date(to) }, performer: [roleRef(performer)] },
  });
  const nurse = careTeam.participant?.map((m) => m.member?.reference?.split('/')[1] as string).find((r) => pole.nurses.includes(r));
  const plan: CarePlan = {
    resourceType: 'CarePlan',
    id: `ppcs-${id}`,
    status: f.number.float() < 0.9 ? 'active' : 'draft',
    intent: 'plan',
    category: [COORDINATION.ppcs],
    title: `PPCS — ${title}`,
    description: 'Plan personnalisé de coordination en santé élaboré avec le patient et son entourage.',
    subject: patient,
    period: { start: cal.date(start) },
    created: cal.dateTime(start),
    author: roleRef(pole.coordinator),
    careTeam: [{ reference: `CareTeam/${careTeam.id}` }],
    addresses: conditions.map((c) => ({ reference: `Condition/${c.id}`, display: c.code?.text })),
    goal: goals.map((g) => ({ reference: `Goal/${g.id}` })),
    activity: [
      activity('Visite à domicile et bilan des besoins', pole.coordinator, start, start + 14, 'completed'),
      activity('Consultation de réévaluation avec le médecin traitant', gp, f.number.int({ min: -5, max: 40 }), 60, 'scheduled'),
      ...(nurse ? [activity('Passage infirmier : pilulier et surveillance', nurse, start, 120, 'in-progress')] : []),
    ],
  };
  const due = f.number.int({ min: -20, max: 60 });
  const review: Task = {
    resourceType: 'Task',
    id: `ppcs-${id}-reevaluation`,
    status: 'requested',
    intent: 'plan',
    code: COORDINATION.reevaluationPpcs,
    description: 'Réévaluer le PPCS avec l’équipe',
    focus: { reference: `CarePlan/${plan.id}` },
    for: patient,
    // Asked by the médecin traitant, who signs the PPCS: the worklist's "Demandée par".
    requester: roleRef(gp),
    owner: roleRef(pole.coordinator),
    authoredOn: cal.dateTime(start),
    restriction: { period: { end: cal.dateTime(due, 18) } },
  };
  return [...goals, plan, review];
}

function protocolPlans(
  f: Faker,
  id: string,
  patient: Reference<Patient>,
  gp: string,
  careTeam: CareTeam,
  has: (k: ProblemKey) => boolean,
  cal: Calendar,
  pole: Pole,
): Resource[] {
  const { role: roleRef } = references(pole);
  const out: Resource[] = [];
  const included = (key: ProblemKey, protocol: PlanDefinition, steps: [string, number][]) => {
    if (!has(key) || f.number.float() > 0.8) return;
    const start = -f.number.int({ min: 30, max: 700 });
    out.push({
      resourceType: 'CarePlan',
      id: `${protocol.id}-${id}`,
      instantiatesCanonical: [`${protocol.url}|${protocol.version}`],
      status: 'active',
      intent: 'plan',
      title: protocol.title,
      subject: patient,
      period: { start: cal.date(start) },
      author: roleRef(gp),
      careTeam: [{ reference: `CareTeam/${careTeam.id}` }],
      activity: steps.map(([text, every]) => {
        const next = f.number.int({ min: -10, max: every });
        return {
          detail: { status: 'scheduled', code: { text }, scheduledPeriod: { start: cal.date(next), end: cal.date(next + 14) }, performer: [roleRef(gp)] },
        };
      }),
    } satisfies CarePlan);
  };
  included('diabete', PROTOCOLS[0], [
    ['HbA1c', 90],
    ['Examen des pieds', 180],
    ['Fond d’œil', 365],
  ]);
  included('insuffisance-cardiaque', PROTOCOLS[1], [
    ['Consultation de cardiologie', 180],
    ['Bilan biologique (NT-proBNP)', 90],
  ]);
  return out;
}

function consent(f: Faker, id: string, patient: Reference<Patient>, identified: boolean, cal: Calendar, quotas: Quotas, pole: Pole): Resource[] {
  const { org: orgRef, role: roleRef } = references(pole);
  if (!identified || f.number.float() > 0.35 || quotas.consents <= 0) return [];
  quotas.consents--;
  const base = {
    resourceType: 'Consent' as const,
    id: `${id}-consentement`,
    status: 'active' as const,
    scope: concept('http://terminology.hl7.org/CodeSystem/consentscope', 'patient-privacy', 'Privacy Consent'),
    category: [concept(LOINC, '59284-0', 'Patient Consent')],
    patient,
    dateTime: cal.dateTime(-f.number.int({ min: 10, max: 700 })),
    organization: [orgRef(pole.msp)],
  };
  if (quotas.oppositions > 0 && f.number.float() < 0.25) {
    quotas.oppositions--;
    // Global opposition to sharing outside the médecin traitant's own record (CSP L1110-4).
    return [{ ...base, policyRule: concept(SYSTEM.actCode, 'OPTOUT', 'opt-out'), provision: { type: 'deny' } } satisfies Consent];
  }
  if (quotas.actorOppositions > 0 && f.number.float() < 0.2) {
    quotas.actorOppositions--;
    return [
      {
        ...base,
        policyRule: concept(SYSTEM.actCode, 'OPTIN', 'opt-in'),
        provision: {
          type: 'permit',
          provision: [
            {
              type: 'deny',
              actor: [
                {
                  role: concept('http://terminology.hl7.org/CodeSystem/v3-ParticipationType', 'PRCP', 'primary information recipient'),
                  reference: roleRef(pole.pharmacists[0]),
                },
              ],
            },
          ],
        },
      } satisfies Consent,
    ];
  }
  // Information given and recorded, no objection.
  return [{ ...base, policyRule: concept(SYSTEM.actCode, 'OPTIN', 'opt-in'), provision: { type: 'permit' } } satisfies Consent];
}

/** Concertation meetings of the MSP: two held (with their reviewed cases), two to come. */
export function concertations(f: Faker, summaries: PathwaySummary[], cal: Calendar, quotas: Quotas, pole: Pole, idPrefix = ''): Resource[] {
  const { org: orgRef, role: roleRef } = references(pole);
  const out: Resource[] = [];
  const attendees = [pole.coordinator, ...pole.gps, pole.nurses[0], pole.pharmacists[0]];
  const complex = summaries.filter((s) => s.complex);
  for (const [n, day] of [-60, -20, 7, 35].entries()) {
    const held = day < 0;
    const appointment: Appointment = {
      resourceType: 'Appointment',
      id: `${idPrefix}concertation-${n + 1}`,
      status: held ? 'fulfilled' : 'booked',
      serviceType: [COORDINATION.concertation],
      description: 'Concertation pluriprofessionnelle de la MSP du Val-de-Lys',
      start: cal.dateTime(day, 12.5),
      end: cal.dateTime(day, 14),
      participant: attendees.map((a) => ({ actor: roleRef(a), status: 'accepted' as const })),
    };
    out.push(appointment);
    if (!held) continue;
    for (const [i, c] of f.helpers.arrayElements(complex, { min: 3, max: 5 }).entries()) {
      out.push({
        resourceType: 'Encounter',
        id: `${appointment.id}-cas-${i + 1}`,
        status: 'finished',
        class: { system: SYSTEM.actCode, code: 'AMB', display: 'ambulatory' },
        type: [COORDINATION.concertation],
        subject: c.patient,
        appointment: [{ reference: `Appointment/${appointment.id}` }],
        participant: attendees.map((a) => ({ individual: roleRef(a) })),
        period: { start: appointment.start, end: appointment.end },
        serviceProvider: orgRef(pole.msp),
      } satisfies Encounter);
    }
  }
  // Patients flagged for a coming concertation and not yet put on an agenda.
  for (const c of f.helpers.arrayElements(complex, Math.min(quotas.concertationFlags, complex.length))) {
    out.push({
      resourceType: 'Task',
      id: `${c.patient.reference?.split('/')[1]}-a-concerter`,
      status: 'requested',
      intent: 'proposal',
      code: COORDINATION.concertation,
      description: 'Situation à présenter en concertation pluriprofessionnelle',
      for: c.patient,
      requester: roleRef(c.gp),
      owner: roleRef(pole.coordinator),
      authoredOn: cal.dateTime(-f.number.int({ min: 1, max: 15 })),
    } satisfies Task);
  }
  return out;
}
