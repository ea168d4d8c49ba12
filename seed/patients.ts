import type { Faker } from '@faker-js/faker';
import type { Patient } from '@medplum/fhirtypes';
import { coding, SYSTEM } from '../server/fhir/vocabulary.js';
import { demoIns } from './identifiers.js';
import type { Commune } from './pole.js';

const RELIABILITY = 'https://hl7.fr/ig/fhir/core/StructureDefinition/fr-core-identity-reliability';
const BIRTH_PLACE = 'http://hl7.org/fhir/StructureDefinition/patient-birthPlace';
const INSEE_CODE = 'https://hl7.fr/ig/fhir/core/StructureDefinition/fr-core-address-insee-code';
const COMMUNE_SYSTEM = 'https://mos.esante.gouv.fr/NOS/TRE_R13-CommuneOM/FHIR/TRE-R13-CommuneOM';

export interface GeneratedPatient {
  resource: Patient;
  age: number;
  /** Index of the commune where the patient lives. */
  commune: number;
}

const pad = (n: number, width: number) => String(n).padStart(width, '0');

/**
 * One fictional patient. Three in four have a validated identity (FR Core status VALI, the one
 * under which FR Core allows an INS) and carry an INS on the DEMO OID; the others are provisional
 * and carry no INS, as the RNIV requires.
 */
export function makePatient(f: Faker, id: string, index: number, communes: Commune[], today: Date): GeneratedPatient {
  const gender = f.helpers.arrayElement(['female', 'male'] as const);
  // A pôle's coordinated patients are mostly old: ages 18 to 98, weighted towards 65+.
  const age = f.helpers.weightedArrayElement([
    { weight: 2, value: f.number.int({ min: 18, max: 44 }) },
    { weight: 3, value: f.number.int({ min: 45, max: 64 }) },
    { weight: 6, value: f.number.int({ min: 65, max: 98 }) },
  ]);
  const birth = new Date(Date.UTC(today.getUTCFullYear() - age, today.getUTCMonth(), today.getUTCDate() - f.number.int({ min: 1, max: 364 })));
  const birthDate = birth.toISOString().slice(0, 10);
  const given = f.person.firstName(gender);
  const family = f.person.lastName();
  const commune = f.number.int({ min: 0, max: communes.length - 1 });
  const birthCommune = f.helpers.arrayElement(communes);
  const validated = f.number.float() < 0.75;
  const nir13 = `${gender === 'male' ? 1 : 2}${birthDate.slice(2, 4)}${birthDate.slice(5, 7)}${birthCommune.insee}${pad(index % 1000, 3)}`;
  const resource: Patient = {
    resourceType: 'Patient',
    id,
    extension: [
      {
        url: BIRTH_PLACE,
        valueAddress: { extension: [{ url: INSEE_CODE, valueCoding: { system: COMMUNE_SYSTEM, code: birthCommune.insee } }], city: birthCommune.city },
      },
      {
        url: RELIABILITY,
        extension: [
          {
            url: 'identityStatus',
            valueCoding: coding(SYSTEM.identityStatus, validated ? 'VALI' : 'PROV', validated ? 'Identité validée' : 'Identité provisoire'),
          },
        ],
      },
    ],
    ...(validated ? { identifier: [demoIns(nir13)] } : {}),
    active: true,
    name: [{ use: 'official', family: family.toUpperCase(), given: [given] }],
    telecom: [{ system: 'phone', value: f.helpers.replaceSymbols('06 ## ## ## ##'), use: 'mobile' }],
    gender,
    birthDate,
    address: [
      {
        use: 'home',
        line: [
          `${f.number.int({ min: 1, max: 80 })} ${f.helpers.arrayElement(['rue', 'chemin', 'allée', 'route'])} ${f.helpers.arrayElement(['des Chênes', 'du Moulin', 'de la Gare', 'des Prés', 'du Lavoir', 'de Bretagne', 'des Hortensias', 'Saint-Michel'])}`,
        ],
        city: communes[commune].city,
        postalCode: communes[commune].postalCode,
        country: 'FR',
      },
    ],
  };
  return { resource, age, commune };
}
