import type { CodeableConcept, Coding } from '@medplum/fhirtypes';
import { COORDINATION_SYSTEM } from '../server/fhir/maillage.js';

/** Code systems the demo pôle uses: ANS NOS (TRE_…), FR Core, HL7 and Maillage's coordination codes. */
export const NOS = (table: string) => `https://mos.esante.gouv.fr/NOS/${table}/FHIR/${table.replace('_', '-')}`;
export const SYSTEM = {
  profession: NOS('TRE_G15-ProfessionSante'),
  specialty: NOS('TRE_R38-SpecialiteOrdinale'),
  fonction: NOS('TRE_R21-Fonction'),
  genreActivite: NOS('TRE_R22-GenreActivite'),
  categorieEtablissement: NOS('TRE_R66-CategorieEtablissement'),
  roleClass: NOS('TRE_R260-HL7RoleClass'),
  identityStatus: 'https://hl7.fr/ig/fhir/core/CodeSystem/fr-core-cs-v2-0445',
  actCode: 'http://terminology.hl7.org/CodeSystem/v3-ActCode',
  dischargeDisposition: 'http://terminology.hl7.org/CodeSystem/discharge-disposition',
  icd10: 'http://hl7.org/fhir/sid/icd-10',
  conditionClinical: 'http://terminology.hl7.org/CodeSystem/condition-clinical',
  conditionCategory: 'http://terminology.hl7.org/CodeSystem/condition-category',
  consentScope: 'http://terminology.hl7.org/CodeSystem/consentscope',
  consentCategory: 'http://loinc.org',
  careTeamCategory: 'http://loinc.org',
  coordination: COORDINATION_SYSTEM,
} as const;

export const coding = (system: string, code: string, display: string): Coding => ({ system, code, display });
export const concept = (system: string, code: string, display: string): CodeableConcept => ({
  coding: [coding(system, code, display)],
  text: display,
});

export const PROFESSION = {
  medecin: concept(SYSTEM.profession, '10', 'Médecin'),
  pharmacien: concept(SYSTEM.profession, '21', 'Pharmacien'),
  sageFemme: concept(SYSTEM.profession, '50', 'Sage-Femme'),
  infirmier: concept(SYSTEM.profession, '60', 'Infirmier'),
  kine: concept(SYSTEM.profession, '70', 'Masseur-Kinésithérapeute'),
};

/** TRE_R22 genre d'activité: a coordinator's activity, who holds no fonction of TRE_R21. */
export const GENRE = {
  coordination: concept(SYSTEM.genreActivite, 'GENR08', "Activité de coordination et d'orientation"),
};

export const SPECIALTY = {
  medecineGenerale: concept(SYSTEM.specialty, 'SM54', 'Médecine générale'),
  cardiologie: concept(SYSTEM.specialty, 'SM04', 'Cardio et Maladies vasculaires'),
  geriatrie: concept(SYSTEM.specialty, 'SM18', 'Gériatrie'),
  medecineInterne: concept(SYSTEM.specialty, 'SM27', 'Médecine interne'),
};

export const FONCTION = {
  titulaireCabinet: concept(SYSTEM.fonction, 'FON-01', 'Titulaire de cabinet'),
  titulaireOfficine: concept(SYSTEM.fonction, 'FON-03', "Titulaire d'officine"),
  adjoint: concept(SYSTEM.fonction, 'FON-05', 'Adjoint'),
  salarie: concept(SYSTEM.fonction, 'FON-33', 'Salarié en poste fixe'),
  cadreDeSante: concept(SYSTEM.fonction, 'FON-43', 'Cadre de santé'),
  coordonnateurEhpad: concept(SYSTEM.fonction, 'FON-63', 'Coordonnateur en EHPAD'),
};

/** TRE_R66 categories of establishment (FINESS). */
export const CATEGORIE = {
  centreHospitalier: concept(SYSTEM.categorieEtablissement, '355', 'Centre hospitalier non dénommé ailleurs (CH)'),
  ehpad: concept(SYSTEM.categorieEtablissement, '500', "Etablissement d'hébergement pour personnes âgées dépendantes"),
  ssiad: concept(SYSTEM.categorieEtablissement, '354', 'Service de soins infirmiers à domicile (SSIAD)'),
  maisonDeSante: concept(SYSTEM.categorieEtablissement, '603', 'Maison de santé (L.6223-3)'),
  pharmacie: concept(SYSTEM.categorieEtablissement, '620', "Pharmacie d'officine"),
};

export const COORDINATION = {
  ppcs: concept(SYSTEM.coordination, 'ppcs', 'Plan personnalisé de coordination en santé'),
  concertation: concept(SYSTEM.coordination, 'concertation-pluripro', 'Concertation pluriprofessionnelle'),
  demandeAppui: concept(SYSTEM.coordination, 'demande-appui', "Demande d'appui à la coordination"),
  suiviPostHospitalisation: concept(SYSTEM.coordination, 'suivi-post-hospitalisation', 'Suivi post-hospitalisation'),
  reevaluationPpcs: concept(SYSTEM.coordination, 'reevaluation-ppcs', 'Réévaluation du PPCS'),
  referentPpcs: concept(SYSTEM.coordination, 'referent-ppcs', 'Référent PPCS'),
  coordinateur: concept(SYSTEM.coordination, 'coordinateur', 'Coordinateur de parcours'),
  cpts: concept(SYSTEM.coordination, 'cpts', 'Communauté professionnelle territoriale de santé'),
  dac: concept(SYSTEM.coordination, 'dac', "Dispositif d'appui à la coordination"),
  msp: concept(SYSTEM.coordination, 'msp', 'Maison de santé pluriprofessionnelle'),
};

/** Care team roles (ANS Cercle de soins: TRE_R259 PCP for the médecin traitant, TRE_R260 role classes). */
export const TEAM_ROLE = {
  medecinTraitant: concept(NOS('TRE_R259-HL7ParticipationFunction'), 'PCP', 'Médecin traitant'),
  professionnel: concept(SYSTEM.roleClass, 'PROV', 'Professionnel de santé'),
  aidant: concept(SYSTEM.roleClass, 'CAREGIVER', 'Aidant'),
  referent: COORDINATION.referentPpcs,
  coordinateur: COORDINATION.coordinateur,
};
