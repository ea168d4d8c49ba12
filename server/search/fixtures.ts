/**
 * French test data for the search tests: a pôle with patients (INS), professionals (RPPS), a
 * structure (FINESS), and their clinical resources. Ids are fixed so tests can name them.
 */
export const RPPS = 'https://rpps.esante.gouv.fr';
export const FINESS = 'https://finess.esante.gouv.fr';
export const INS_NIR = 'urn:oid:1.2.250.1.213.1.4.8';
export const FR_ID_TYPES = 'https://hl7.fr/ig/fhir/core/CodeSystem/fr-core-cs-v2-0203';
export const SPECIALITE = 'https://mos.esante.gouv.fr/NOS/TRE_R38-SpecialiteOrdinale/FHIR/TRE-R38-SpecialiteOrdinale';
export const LOINC = 'http://loinc.org';
export const UCUM = 'http://unitsofmeasure.org';
export const FR_PATIENT = 'https://hl7.fr/ig/fhir/core/StructureDefinition/fr-core-patient';

const ins = (value: string) => ({
  use: 'official',
  system: INS_NIR,
  value,
  type: { coding: [{ system: FR_ID_TYPES, code: 'INS-NIR' }] },
});

/** FR Core: an INS only on a validated identity (validation/identity.ts). */
const validated = [
  {
    url: 'https://hl7.fr/ig/fhir/core/StructureDefinition/fr-core-identity-reliability',
    extension: [{ url: 'identityStatus', valueCoding: { system: 'https://hl7.fr/ig/fhir/core/CodeSystem/fr-core-cs-v2-0445', code: 'VALI' } }],
  },
];

export const patients = [
  {
    resourceType: 'Patient',
    id: 'helene',
    meta: { profile: [FR_PATIENT], tag: [{ system: 'urn:maillage:test', code: 'pole-tilleuls' }], source: 'urn:logiciel:cabinet-a' },
    extension: validated,
    identifier: [ins('250067512345608')],
    active: true,
    name: [{ family: 'Dupont-Lefèvre', given: ['Hélène', 'Marie'] }],
    gender: 'female',
    birthDate: '1950-06-01',
    address: [{ line: ['12 rue des Tilleuls'], city: 'Saint-Étienne', postalCode: '42000' }],
    telecom: [{ system: 'phone', value: '0477000001' }],
    generalPractitioner: [{ reference: 'Practitioner/emilie' }],
    text: { status: 'generated', div: '<div xmlns="http://www.w3.org/1999/xhtml">Hélène suit un parcours de soins pour insuffisance cardiaque</div>' },
  },
  {
    resourceType: 'Patient',
    id: 'jerome',
    extension: validated,
    identifier: [ins('182116912345690')],
    active: true,
    name: [{ family: 'Martin', given: ['Jérôme'] }],
    gender: 'male',
    birthDate: '1982-11-23',
    address: [{ city: 'Lyon', postalCode: '69003' }],
    generalPractitioner: [{ reference: 'Practitioner/francois' }],
  },
  {
    resourceType: 'Patient',
    id: 'zoe',
    active: false,
    name: [{ family: 'Lefèvre', given: ['Zoé'] }],
    birthDate: '2001',
    generalPractitioner: [{ reference: 'Practitioner/emilie' }],
  },
];

const rpps = (value: string) => ({ system: RPPS, value, type: { coding: [{ system: FR_ID_TYPES, code: 'RPPS' }] } });

export const practitioners = [
  { resourceType: 'Practitioner', id: 'emilie', identifier: [rpps('10003461033')], name: [{ family: 'Rousseau', given: ['Émilie'] }] },
  { resourceType: 'Practitioner', id: 'francois', identifier: [rpps('10101010108')], name: [{ family: 'Nguyen', given: ['François'] }] },
];

export const organization = {
  resourceType: 'Organization',
  id: 'msp-tilleuls',
  identifier: [{ system: FINESS, value: '420012345', type: { coding: [{ system: FR_ID_TYPES, code: 'FINEG' }] } }],
  name: 'Maison de santé pluriprofessionnelle des Tilleuls',
};

export const roles = [
  {
    resourceType: 'PractitionerRole',
    id: 'emilie-msp',
    practitioner: { reference: 'Practitioner/emilie' },
    organization: { reference: 'Organization/msp-tilleuls' },
    specialty: [{ coding: [{ system: SPECIALITE, code: 'SM54', display: 'Médecine générale' }] }],
  },
  {
    resourceType: 'PractitionerRole',
    id: 'francois-msp',
    practitioner: { reference: 'Practitioner/francois' },
    organization: { reference: 'Organization/msp-tilleuls' },
    specialty: [{ coding: [{ system: SPECIALITE, code: 'SM26', display: 'Cardiologie' }] }],
  },
];

const bp = (id: string, patient: string, when: string, systolic: number, diastolic: number) => ({
  resourceType: 'Observation',
  id,
  status: 'final',
  code: { coding: [{ system: LOINC, code: '85354-9', display: 'Pression artérielle' }] },
  subject: { reference: `Patient/${patient}` },
  effectiveDateTime: when,
  component: [
    { code: { coding: [{ system: LOINC, code: '8480-6' }] }, valueQuantity: { value: systolic, unit: 'mmHg', system: UCUM, code: 'mm[Hg]' } },
    { code: { coding: [{ system: LOINC, code: '8462-4' }] }, valueQuantity: { value: diastolic, unit: 'mmHg', system: UCUM, code: 'mm[Hg]' } },
  ],
});

export const observations = [
  bp('bp-helene-1', 'helene', '2024-03-15T10:30:00+01:00', 152, 88),
  bp('bp-helene-2', 'helene', '2024-04-02T09:00:00+02:00', 128, 95),
  {
    resourceType: 'Observation',
    id: 'poids-jerome',
    status: 'final',
    code: { coding: [{ system: LOINC, code: '29463-7', display: 'Poids' }] },
    subject: { reference: 'Patient/jerome' },
    effectiveDateTime: '2024-03-20',
    valueQuantity: { value: 81.5, unit: 'kg', system: UCUM, code: 'kg' },
  },
];

export const carePlans = [
  {
    resourceType: 'CarePlan',
    id: 'ppcs-helene',
    status: 'active',
    intent: 'plan',
    title: 'Plan personnalisé de coordination en santé',
    subject: { reference: 'Patient/helene' },
    careTeam: [{ reference: 'CareTeam/equipe-helene' }],
    period: { start: '2024-01-01', end: '2024-12-31' },
  },
  {
    resourceType: 'CarePlan',
    id: 'ppcs-jerome',
    status: 'completed',
    intent: 'plan',
    subject: { reference: 'Patient/jerome' },
    period: { start: '2023-05-01' },
  },
];

export const careTeams = [
  {
    resourceType: 'CareTeam',
    id: 'equipe-helene',
    status: 'active',
    subject: { reference: 'Patient/helene' },
    participant: [{ member: { reference: 'Practitioner/emilie' } }, { member: { reference: 'Practitioner/francois' } }],
  },
];

export const riskAssessments = [
  {
    resourceType: 'RiskAssessment',
    id: 'risque-chute',
    status: 'final',
    subject: { reference: 'Patient/helene' },
    prediction: [{ probabilityDecimal: 0.35 }],
  },
];

export const all = [...practitioners, organization, ...roles, ...patients, ...careTeams, ...carePlans, ...observations, ...riskAssessments];
