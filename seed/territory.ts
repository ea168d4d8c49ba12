import { base, Faker, fr } from '@faker-js/faker';
import type { Organization, Resource } from '@medplum/fhirtypes';
import { COORDINATION } from '../server/fhir/vocabulary.js';
import { CATEGORIE, FONCTION, GENRE, PROFESSION, SPECIALTY } from './codes.js';
import { siretIds, structureIds } from './identifiers.js';
import { makePatient } from './patients.js';
import { Calendar, concertations, DEFAULT_QUOTAS, makePathway, PROTOCOLS, type PathwaySummary, type Quotas } from './pathways.js';
import type { Commune, Pole } from './pole.js';
import {
  hospitalService,
  infirmier,
  INTERNAL_STRUCTURE,
  medecin,
  organization,
  practitioner,
  practitionerRoles,
  type ProfessionalSpec,
  type RoleSpec,
} from './structures.js';

/**
 * A synthetic territory at scale: pôles of PATIENTS_PER_POLE patients, each with the structures
 * and professionals of the demo pôle (MSP, satellite practice, pharmacy, nurses, physiotherapists,
 * SSIAD, a hospital with three services, DAC, CPTS) and the same pathways. Deterministic: the same
 * seed and size give the same resources, ids included (prefixed by the seed, so that two seeds can
 * share a database).
 */
export const PATIENTS_PER_POLE = 2000;

/** Change when the generated data changes, so that a kept data set of an older shape is rebuilt. */
export const GENERATOR_VERSION = 2;
const DEPARTEMENTS = ['22', '29', '35', '56'];

export interface TerritoryOptions {
  patients: number;
  seed: number;
  today: Date;
}

/**
 * The territory as batches of resources: first the structures of the first pôle (with the shared
 * protocols), then one patient's pathway per batch, then that pôle's concertations; and so on.
 * Every reference of a batch points into the same or an earlier batch. The protocols keep their
 * ids (those of the demo pôle): every seed shares them.
 */
export function* generateTerritory({ patients, seed, today }: TerritoryOptions): Generator<Resource[]> {
  const f = new Faker({ locale: [fr, base], seed });
  const cal = new Calendar(today);
  const prefix = `s${seed}-`;
  yield PROTOCOLS;
  for (let k = 0, done = 0; done < patients; k++) {
    const size = Math.min(PATIENTS_PER_POLE, patients - done);
    const pole = makePole(f, `${prefix}p${k}-`, k);
    yield [...pole.organizations, ...pole.practitioners, ...pole.roles];
    const scale = size / 200;
    const quotas = Object.fromEntries(Object.entries(DEFAULT_QUOTAS).map(([key, n]) => [key, Math.ceil(n * scale)])) as unknown as Quotas;
    const summaries: PathwaySummary[] = [];
    for (let i = 0; i < size; i++) {
      const index = done + i + 1;
      const patient = makePatient(f, `${prefix}pat-${index}`, index, pole.communes, today);
      const { resources, summary } = makePathway(f, patient, cal, quotas, pole);
      summaries.push(summary);
      yield [patient.resource, ...resources];
    }
    yield concertations(f, summaries, cal, quotas, pole, `${prefix}p${k}-`);
    done += size;
  }
}

type GeneratedPole = Pole & { practitioners: ReturnType<typeof practitioner>[] };

function makePole(f: Faker, prefix: string, k: number): GeneratedPole {
  const dept = DEPARTEMENTS[k % DEPARTEMENTS.length];
  const communes: Commune[] = Array.from({ length: 5 }, (_, j) => {
    const n = String((k * 5 + j) % 1000).padStart(3, '0');
    return { city: f.location.city(), postalCode: `${dept}${n.slice(0, 3)}`, insee: `${dept}${n}` };
  });
  const town = communes[0].city;
  const id = (s: string) => `${prefix}${s}`;
  const addr = (j: number) => ({
    use: 'work' as const,
    line: [f.location.streetAddress()],
    city: communes[j].city,
    postalCode: communes[j].postalCode,
    country: 'FR',
  });
  const finess = (j: number) => `${dept}${String(k * 10 + j).padStart(6, '0')}`;
  const siret = (j: number) => `9${String(k).padStart(7, '0')}${String(j).padStart(5, '0')}`;
  const organizations: Organization[] = [
    organization({ id: id('cpts'), name: `CPTS de ${town}`, type: [COORDINATION.cpts], identifier: siretIds(siret(1)), address: addr(0) }),
    organization({ id: id('dac'), name: `DAC de ${town}`, type: [COORDINATION.dac], identifier: siretIds(siret(2)), address: addr(0) }),
    organization({
      id: id('msp'),
      name: `Maison de santé pluriprofessionnelle de ${town}`,
      type: [CATEGORIE.maisonDeSante, COORDINATION.msp],
      identifier: structureIds(finess(1), 'FINEG'),
      address: addr(0),
    }),
    organization({
      id: id('cabinet'),
      name: `Cabinet médical de ${communes[1].city}`,
      type: [INTERNAL_STRUCTURE],
      identifier: siretIds(siret(3)),
      address: addr(1),
    }),
    organization({ id: id('infirmiers'), name: `Cabinet infirmier de ${town}`, type: [INTERNAL_STRUCTURE], identifier: siretIds(siret(4)), address: addr(0) }),
    organization({
      id: id('kine'),
      name: `Cabinet de kinésithérapie de ${communes[2].city}`,
      type: [INTERNAL_STRUCTURE],
      identifier: siretIds(siret(5)),
      address: addr(2),
    }),
    organization({
      id: id('pharmacie'),
      name: `Pharmacie de ${town}`,
      type: [CATEGORIE.pharmacie],
      identifier: structureIds(finess(2), 'FINEG'),
      address: addr(0),
    }),
    organization({ id: id('ssiad'), name: `SSIAD de ${town}`, type: [CATEGORIE.ssiad], identifier: structureIds(finess(3), 'FINEG'), address: addr(0) }),
    organization({
      id: id('ch-ej'),
      name: `Centre hospitalier de ${town}`,
      type: [CATEGORIE.centreHospitalier],
      identifier: structureIds(finess(4), 'FINEJ'),
      address: addr(0),
    }),
    organization({
      id: id('ch'),
      name: `Centre hospitalier de ${town} — site principal`,
      type: [CATEGORIE.centreHospitalier],
      identifier: structureIds(finess(5), 'FINEG'),
      address: addr(0),
      partOf: id('ch-ej'),
    }),
    hospitalService(id('ch-medecine'), 'Service de médecine polyvalente', id('ch')),
    hospitalService(id('ch-cardiologie'), 'Service de cardiologie', id('ch')),
    hospitalService(id('ch-geriatrie'), 'Court séjour gériatrique', id('ch')),
  ];
  let n = 0;
  const person = (roles: RoleSpec[], title?: string, rpps = true): ProfessionalSpec => {
    const gender = f.helpers.arrayElement(['female', 'male'] as const);
    n++;
    return {
      slug: `${prefix}${n}`,
      given: f.person.firstName(gender),
      family: f.person.lastName(),
      gender,
      prefix: title,
      rpps: rpps ? `1${String(k).padStart(5, '0')}${String(n).padStart(4, '0')}` : undefined,
      roles,
    };
  };
  const since = () => `20${f.number.int({ min: 5, max: 23 }).toString().padStart(2, '0')}-0${f.number.int({ min: 1, max: 9 })}-01`;
  const gps = [1, 2, 3, 4].map(() => person([medecin(id('msp'), since())], 'Dr'));
  const satelliteGps = [1, 2].map(() => person([medecin(id('cabinet'), since())], 'Dr'));
  const nurses = [person([infirmier(id('msp'), since(), FONCTION.salarie)]), ...[1, 2, 3].map(() => person([infirmier(id('infirmiers'), since())]))];
  const physios = [1, 2].map(() => person([{ org: id('kine'), code: [PROFESSION.kine, FONCTION.titulaireCabinet], since: since() }]));
  const pharmacists = [
    person([{ org: id('pharmacie'), code: [PROFESSION.pharmacien, FONCTION.titulaireOfficine], since: since() }], 'Dr'),
    person([{ org: id('pharmacie'), code: [PROFESSION.pharmacien, FONCTION.adjoint], since: since() }], 'Dr'),
  ];
  const ssiadNurse = person([infirmier(id('ssiad'), since(), FONCTION.cadreDeSante)]);
  const dischargeNurse = person([infirmier(id('ch'), since(), FONCTION.salarie)]);
  const doctors = [
    person([medecin(id('ch-medecine'), since(), SPECIALTY.medecineInterne, FONCTION.salarie)], 'Dr'),
    person([medecin(id('ch-cardiologie'), since(), SPECIALTY.cardiologie, FONCTION.salarie)], 'Dr'),
    person([medecin(id('ch-geriatrie'), since(), SPECIALTY.geriatrie, FONCTION.salarie)], 'Dr'),
  ];
  const coordinator = person([{ org: id('msp'), code: [GENRE.coordination, COORDINATION.coordinateur], since: since() }], undefined, false);
  const dacCoordinator = person([{ org: id('dac'), code: [GENRE.coordination, COORDINATION.coordinateur], since: since() }], undefined, false);
  const all = [...gps, ...satelliteGps, ...nurses, ...physios, ...pharmacists, ssiadNurse, dischargeNurse, ...doctors, coordinator, dacCoordinator];
  const mailDomain = `${prefix.replace(/-$/, '')}.mssante.fr`;
  const roles = all.flatMap((p) => practitionerRoles(p, organizations, mailDomain));
  const roleId = (p: ProfessionalSpec) => `role-${p.slug}-${p.roles[0].org}`;
  return {
    communes,
    satelliteCommune: 1,
    msp: id('msp'),
    satellite: id('cabinet'),
    cpts: id('cpts'),
    dac: id('dac'),
    gps: gps.map(roleId),
    satelliteGps: satelliteGps.map(roleId),
    nurses: nurses.map(roleId),
    physios: physios.map(roleId),
    pharmacists: pharmacists.map(roleId),
    ssiadNurse: roleId(ssiadNurse),
    coordinator: roleId(coordinator),
    dacCoordinator: roleId(dacCoordinator),
    dischargeNurse: roleId(dischargeNurse),
    hospital: doctors.map((d) => ({ service: d.roles[0].org, doctor: roleId(d) })),
    organizations,
    roles,
    practitioners: all.map((p) => practitioner(p, mailDomain)),
  };
}
