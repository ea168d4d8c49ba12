import type { Address, Organization, Practitioner, PractitionerRole } from '@medplum/fhirtypes';
import type { Commune, Pole } from '../pole.js';
import { COORDINATION } from '../../server/fhir/vocabulary.js';
import { CATEGORIE, FONCTION, GENRE, PROFESSION, SPECIALTY } from '../codes.js';
import { siretIds, structureIds } from '../identifiers.js';
import {
  hospitalService,
  infirmier,
  INTERNAL_STRUCTURE,
  medecin,
  organization,
  practitioner,
  practitionerRoles,
  type ProfessionalSpec,
} from '../structures.js';

/**
 * The fictional territory of the demo: the Val-de-Lys, a rural canton around the small town of
 * Lysmont. Every name, address and number here is invented; identifiers have valid formats and keys.
 */
export const COMMUNES: Commune[] = [
  { city: 'Lysmont', postalCode: '35790', insee: '35901' },
  { city: 'Saint-Aubert-sur-Lys', postalCode: '35791', insee: '35902' },
  { city: 'Brévannes-le-Haut', postalCode: '35792', insee: '35903' },
  { city: 'Quelmer-en-Lys', postalCode: '35793', insee: '35904' },
  { city: 'La Chapelle-Roussel', postalCode: '35794', insee: '35905' },
  { city: 'Montlouët', postalCode: '35795', insee: '35906' },
];

export const address = (line: string, communeIndex: number): Address => {
  const c = COMMUNES[communeIndex];
  return { use: 'work', line: [line], city: c.city, postalCode: c.postalCode, country: 'FR' };
};

export const ORGANIZATIONS: Organization[] = [
  organization({
    id: 'cpts-val-de-lys',
    name: 'CPTS du Val-de-Lys',
    type: [COORDINATION.cpts],
    identifier: siretIds('9010203040001'),
    address: address('2 place de la Mairie', 0),
    phone: '02 99 00 10 00',
  }),
  organization({
    id: 'dac-val-de-lys',
    name: 'DAC Val-de-Lys — Appui Parcours',
    type: [COORDINATION.dac],
    identifier: siretIds('9020304050001'),
    address: address('14 rue des Lavandières', 0),
    phone: '02 99 00 20 00',
  }),
  organization({
    id: 'msp-val-de-lys',
    name: 'Maison de santé pluriprofessionnelle du Val-de-Lys',
    type: [CATEGORIE.maisonDeSante, COORDINATION.msp],
    identifier: structureIds('35000901', 'FINEG'),
    address: address('1 allée des Soignants', 0),
    phone: '02 99 00 30 00',
  }),
  organization({
    id: 'cabinet-tilleuls',
    name: 'Cabinet médical des Tilleuls',
    type: [INTERNAL_STRUCTURE],
    identifier: siretIds('9030405060001'),
    address: address('8 avenue des Tilleuls', 1),
    phone: '02 99 00 40 00',
  }),
  organization({
    id: 'cabinet-infirmier-centre',
    name: 'Cabinet infirmier du Centre',
    type: [INTERNAL_STRUCTURE],
    identifier: siretIds('9040506070001'),
    address: address('3 rue du Marché', 0),
    phone: '02 99 00 50 00',
  }),
  organization({
    id: 'cabinet-kine-lys',
    name: 'Cabinet de kinésithérapie des Bords-de-Lys',
    type: [INTERNAL_STRUCTURE],
    identifier: siretIds('9050607080001'),
    address: address('21 quai du Lys', 2),
    phone: '02 99 00 60 00',
  }),
  organization({
    id: 'pharmacie-place',
    name: 'Pharmacie de la Place',
    type: [CATEGORIE.pharmacie],
    identifier: structureIds('35000902', 'FINEG'),
    address: address('5 place de l’Église', 0),
    phone: '02 99 00 70 00',
  }),
  organization({
    id: 'cabinet-sage-femme',
    name: 'Cabinet de sage-femme de Quelmer',
    type: [INTERNAL_STRUCTURE],
    identifier: siretIds('9060708090001'),
    address: address('9 rue des Écoles', 3),
    phone: '02 99 00 80 00',
  }),
  organization({
    id: 'ch-lysmont-ej',
    name: 'Centre hospitalier de Lysmont',
    type: [CATEGORIE.centreHospitalier],
    identifier: structureIds('35000903', 'FINEJ'),
    address: address('40 route de Rennes', 0),
    phone: '02 99 01 00 00',
  }),
  organization({
    id: 'ch-lysmont',
    name: 'Centre hospitalier de Lysmont — site principal',
    type: [CATEGORIE.centreHospitalier],
    identifier: structureIds('35000904', 'FINEG'),
    address: address('40 route de Rennes', 0),
    phone: '02 99 01 00 00',
    partOf: 'ch-lysmont-ej',
  }),
  hospitalService('ch-lysmont-medecine', 'Service de médecine polyvalente', 'ch-lysmont'),
  hospitalService('ch-lysmont-cardiologie', 'Service de cardiologie', 'ch-lysmont'),
  hospitalService('ch-lysmont-geriatrie', 'Court séjour gériatrique', 'ch-lysmont'),
  organization({
    id: 'ehpad-glycines',
    name: 'EHPAD Les Glycines',
    type: [CATEGORIE.ehpad],
    identifier: structureIds('35000905', 'FINEG'),
    address: address('12 chemin des Glycines', 4),
    phone: '02 99 00 90 00',
  }),
  organization({
    id: 'ssiad-val-de-lys',
    name: 'SSIAD du Val-de-Lys',
    type: [CATEGORIE.ssiad],
    identifier: structureIds('35000906', 'FINEG'),
    address: address('14 rue des Lavandières', 0),
    phone: '02 99 00 95 00',
  }),
];

/** Roles a test or the app may need by name. */
export const ROLE = {
  coordinatorMsp: 'role-aurelie-legall-msp-val-de-lys',
  coordinatorDac: 'role-sebastien-morin-dac-val-de-lys',
  gpMorvan: 'role-claire-morvan-msp-val-de-lys',
  nurseGuerin: 'role-elodie-guerin-msp-val-de-lys',
  pharmacistLemoine: 'role-anne-lemoine-pharmacie-place',
  dischargeNurse: 'role-lucie-tanguy-ch-lysmont',
};

const PROFESSIONALS: ProfessionalSpec[] = [
  {
    slug: 'claire-morvan',
    given: 'Claire',
    family: 'Morvan',
    gender: 'female',
    prefix: 'Dr',
    rpps: '1000100011',
    roles: [medecin('msp-val-de-lys', '2016-09-01')],
  },
  {
    slug: 'julien-legoff',
    given: 'Julien',
    family: 'Le Goff',
    gender: 'male',
    prefix: 'Dr',
    rpps: '1000100012',
    roles: [medecin('msp-val-de-lys', '2018-01-15')],
  },
  {
    slug: 'sophie-bertrand',
    given: 'Sophie',
    family: 'Bertrand',
    gender: 'female',
    prefix: 'Dr',
    rpps: '1000100013',
    roles: [medecin('msp-val-de-lys', '2021-05-03')],
  },
  {
    slug: 'antoine-riou',
    given: 'Antoine',
    family: 'Riou',
    gender: 'male',
    prefix: 'Dr',
    rpps: '1000100014',
    roles: [medecin('cabinet-tilleuls', '2009-03-01')],
  },
  {
    slug: 'nadia-benali',
    given: 'Nadia',
    family: 'Benali',
    gender: 'female',
    prefix: 'Dr',
    rpps: '1000100015',
    roles: [medecin('cabinet-tilleuls', '2019-11-04')],
  },
  {
    slug: 'elodie-guerin',
    given: 'Élodie',
    family: 'Guérin',
    gender: 'female',
    rpps: '1000200021',
    roles: [infirmier('msp-val-de-lys', '2017-02-01', FONCTION.salarie)],
  },
  { slug: 'yann-kerbrat', given: 'Yann', family: 'Kerbrat', gender: 'male', rpps: '1000200022', roles: [infirmier('cabinet-infirmier-centre', '2012-06-01')] },
  {
    slug: 'melanie-paugam',
    given: 'Mélanie',
    family: 'Paugam',
    gender: 'female',
    rpps: '1000200023',
    roles: [infirmier('cabinet-infirmier-centre', '2015-10-01')],
  },
  {
    slug: 'karim-haddad',
    given: 'Karim',
    family: 'Haddad',
    gender: 'male',
    rpps: '1000200024',
    roles: [infirmier('ssiad-val-de-lys', '2020-01-06', FONCTION.cadreDeSante)],
  },
  {
    slug: 'lucie-tanguy',
    given: 'Lucie',
    family: 'Tanguy',
    gender: 'female',
    rpps: '1000200025',
    roles: [infirmier('ch-lysmont', '2014-04-01', FONCTION.salarie)],
  },
  {
    slug: 'helene-jaouen',
    given: 'Hélène',
    family: 'Jaouen',
    gender: 'female',
    rpps: '1000200026',
    roles: [infirmier('ehpad-glycines', '2018-09-01', FONCTION.cadreDeSante)],
  },
  {
    slug: 'thomas-lebihan',
    given: 'Thomas',
    family: 'Le Bihan',
    gender: 'male',
    rpps: '1000300031',
    roles: [{ org: 'cabinet-kine-lys', code: [PROFESSION.kine, FONCTION.titulaireCabinet], since: '2011-01-10' }],
  },
  {
    slug: 'camille-roue',
    given: 'Camille',
    family: 'Roué',
    gender: 'female',
    rpps: '1000300032',
    roles: [{ org: 'cabinet-kine-lys', code: [PROFESSION.kine, FONCTION.titulaireCabinet], since: '2022-03-01' }],
  },
  {
    slug: 'anne-lemoine',
    given: 'Anne',
    family: 'Lemoine',
    gender: 'female',
    prefix: 'Dr',
    rpps: '1000400041',
    roles: [{ org: 'pharmacie-place', code: [PROFESSION.pharmacien, FONCTION.titulaireOfficine], since: '2008-07-01' }],
  },
  {
    slug: 'hugo-carre',
    given: 'Hugo',
    family: 'Carré',
    gender: 'male',
    prefix: 'Dr',
    rpps: '1000400042',
    roles: [{ org: 'pharmacie-place', code: [PROFESSION.pharmacien, FONCTION.adjoint], since: '2023-02-01' }],
  },
  {
    slug: 'marion-quere',
    given: 'Marion',
    family: 'Quéré',
    gender: 'female',
    rpps: '1000500051',
    roles: [{ org: 'cabinet-sage-femme', code: [PROFESSION.sageFemme, FONCTION.titulaireCabinet], since: '2016-05-01' }],
  },
  {
    slug: 'patrick-salaun',
    given: 'Patrick',
    family: 'Salaün',
    gender: 'male',
    prefix: 'Dr',
    rpps: '1000100016',
    roles: [medecin('ch-lysmont-cardiologie', '2005-11-01', SPECIALTY.cardiologie, FONCTION.salarie)],
  },
  {
    slug: 'isabelle-nicolas',
    given: 'Isabelle',
    family: 'Nicolas',
    gender: 'female',
    prefix: 'Dr',
    rpps: '1000100017',
    roles: [medecin('ch-lysmont-geriatrie', '2013-09-01', SPECIALTY.geriatrie, FONCTION.salarie)],
  },
  {
    slug: 'mehdi-amrani',
    given: 'Mehdi',
    family: 'Amrani',
    gender: 'male',
    prefix: 'Dr',
    rpps: '1000100018',
    roles: [medecin('ch-lysmont-medecine', '2017-11-02', SPECIALTY.medecineInterne, FONCTION.salarie)],
  },
  {
    slug: 'francois-gourves',
    given: 'François',
    family: 'Gourvès',
    gender: 'male',
    prefix: 'Dr',
    rpps: '1000100019',
    roles: [medecin('ehpad-glycines', '2015-01-05', SPECIALTY.geriatrie, FONCTION.coordonnateurEhpad)],
  },
  {
    slug: 'aurelie-legall',
    given: 'Aurélie',
    family: 'Le Gall',
    gender: 'female',
    roles: [{ org: 'msp-val-de-lys', code: [GENRE.coordination, COORDINATION.coordinateur], since: '2019-04-01' }],
  },
  {
    slug: 'sebastien-morin',
    given: 'Sébastien',
    family: 'Morin',
    gender: 'male',
    roles: [{ org: 'dac-val-de-lys', code: [GENRE.coordination, COORDINATION.coordinateur], since: '2021-09-01' }],
  },
  {
    slug: 'pauline-henry',
    given: 'Pauline',
    family: 'Henry',
    gender: 'female',
    roles: [{ org: 'cpts-val-de-lys', code: [GENRE.coordination, COORDINATION.coordinateur], since: '2022-01-03' }],
  },
];

const MAIL_DOMAIN = 'val-de-lys.mssante.fr';
export const PRACTITIONERS: Practitioner[] = PROFESSIONALS.map((p) => practitioner(p, MAIL_DOMAIN));
export const PRACTITIONER_ROLES: PractitionerRole[] = PROFESSIONALS.flatMap((p) => practitionerRoles(p, ORGANIZATIONS, MAIL_DOMAIN));

const rolesWhere = (pred: (r: PractitionerRole) => boolean) => PRACTITIONER_ROLES.filter(pred).map((r) => r.id as string);
const hasProfession = (code: string) => (r: PractitionerRole) => !!r.code?.some((c) => c.coding?.some((x) => x.code === code && x.system?.includes('TRE_G15')));
const at = (org: string) => (r: PractitionerRole) => r.organization?.reference === `Organization/${org}`;

/** Who plays which part in the demo pôle's pathways. */
export const DEMO_POLE: Pole = {
  communes: COMMUNES,
  satelliteCommune: 1,
  msp: 'msp-val-de-lys',
  satellite: 'cabinet-tilleuls',
  cpts: 'cpts-val-de-lys',
  dac: 'dac-val-de-lys',
  gps: rolesWhere((r) => hasProfession('10')(r) && at('msp-val-de-lys')(r)),
  satelliteGps: rolesWhere((r) => hasProfession('10')(r) && at('cabinet-tilleuls')(r)),
  nurses: [ROLE.nurseGuerin, ...rolesWhere((r) => hasProfession('60')(r) && at('cabinet-infirmier-centre')(r))],
  physios: rolesWhere(hasProfession('70')),
  pharmacists: rolesWhere(hasProfession('21')),
  ssiadNurse: 'role-karim-haddad-ssiad-val-de-lys',
  coordinator: ROLE.coordinatorMsp,
  dacCoordinator: ROLE.coordinatorDac,
  dischargeNurse: ROLE.dischargeNurse,
  hospital: [
    { service: 'ch-lysmont-medecine', doctor: 'role-mehdi-amrani-ch-lysmont-medecine' },
    { service: 'ch-lysmont-cardiologie', doctor: 'role-patrick-salaun-ch-lysmont-cardiologie' },
    { service: 'ch-lysmont-geriatrie', doctor: 'role-isabelle-nicolas-ch-lysmont-geriatrie' },
  ],
  organizations: ORGANIZATIONS,
  roles: PRACTITIONER_ROLES,
};
