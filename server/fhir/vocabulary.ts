import type { CodeableConcept, Coding } from '@medplum/fhirtypes';
import { COORDINATION_SYSTEM } from './maillage.js';

/**
 * The coded vocabulary Maillage writes and reads, shared by the server, the coordination app and
 * the seed: the code systems (ANS NOS TRE_…, FR Core, HL7, Maillage's own), Maillage's
 * coordination codes and the roles of a cercle de soins.
 */

/** The code system of an ANS NOS table. */
export const NOS = (table: string) => `https://mos.esante.gouv.fr/NOS/${table}/FHIR/${table.replace('_', '-')}`;

/** Code systems: ANS NOS (TRE_…), FR Core, HL7 and Maillage's coordination codes. */
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

/** Maillage's coordination codes (its CodeSystem: COORDINATION_SYSTEM). */
export const COORDINATION = {
  ppcs: concept(SYSTEM.coordination, 'ppcs', 'Plan personnalisé de coordination en santé'),
  concertation: concept(SYSTEM.coordination, 'concertation-pluripro', 'Concertation pluriprofessionnelle'),
  demandeAppui: concept(SYSTEM.coordination, 'demande-appui', "Demande d'appui à la coordination"),
  suiviPostHospitalisation: concept(SYSTEM.coordination, 'suivi-post-hospitalisation', 'Suivi post-hospitalisation'),
  reevaluationPpcs: concept(SYSTEM.coordination, 'reevaluation-ppcs', 'Réévaluation du PPCS'),
  soinsNonProgrammes: concept(SYSTEM.coordination, 'soins-non-programmes', 'Soins non programmés'),
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
