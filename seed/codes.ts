import { concept, SYSTEM } from '../server/fhir/vocabulary.js';

/** The codes of the demo's structures and professionals (the shared vocabulary: server/fhir/vocabulary.ts). */

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
