import type { Address, ContactPoint, Organization, Practitioner, PractitionerRole } from '@medplum/fhirtypes';
import { MAILLAGE_CANONICAL } from '../server/fhir/maillage.js';
import { concept } from '../server/fhir/vocabulary.js';
import { FONCTION, PROFESSION, SPECIALTY } from './codes.js';
import { professionalIds } from './identifiers.js';

/** Builders for the structures and professionals of a pôle, shared by the demo and the generator. */

export const LOCAL_ID_SYSTEM = `${MAILLAGE_CANONICAL}/NamingSystem/demo-local-id`;
const ORG_TYPE = 'https://hl7.fr/ig/fhir/core/CodeSystem/fr-core-cs-v2-3307';
export const INTERNAL_STRUCTURE = concept(ORG_TYPE, 'STRUCT-INTERNE', 'Structure interne');

export interface StructureSpec {
  id: string;
  name: string;
  type: Organization['type'];
  identifier: Organization['identifier'];
  address?: Address;
  phone?: string;
  partOf?: string;
}

export const organization = (s: StructureSpec): Organization => ({
  resourceType: 'Organization',
  id: s.id,
  identifier: s.identifier,
  active: true,
  type: s.type,
  name: s.name,
  ...(s.phone ? { telecom: [{ system: 'phone', value: s.phone, use: 'work' }] } : {}),
  ...(s.address ? { address: [s.address] } : {}),
  ...(s.partOf ? { partOf: { reference: `Organization/${s.partOf}` } } : {}),
});

/** A hospital service (FR Core organisation type SERVICE) within an establishment. */
export const hospitalService = (id: string, name: string, partOf: string): Organization =>
  organization({ id, name, type: [concept(ORG_TYPE, 'SERVICE', 'Service')], identifier: [{ system: LOCAL_ID_SYSTEM, value: id }], partOf });

export interface RoleSpec {
  org: string;
  code: PractitionerRole['code'];
  specialty?: PractitionerRole['specialty'];
  since: string;
}

export interface ProfessionalSpec {
  slug: string;
  given: string;
  family: string;
  gender: 'male' | 'female';
  /** 10-digit RPPS payload; absent for coordinators who are not health professionals. */
  rpps?: string;
  prefix?: string;
  roles: RoleSpec[];
}

export const medecin = (org: string, since: string, specialty = SPECIALTY.medecineGenerale, fonction = FONCTION.titulaireCabinet): RoleSpec => ({
  org,
  code: [PROFESSION.medecin, fonction],
  specialty: [specialty],
  since,
});
export const infirmier = (org: string, since: string, fonction = FONCTION.titulaireCabinet): RoleSpec => ({
  org,
  code: [PROFESSION.infirmier, fonction],
  since,
});

/** An MSSanté-style address: prenom.nom@domain, without accents. */
const emailOf = (p: ProfessionalSpec, domain: string) =>
  `${`${p.given}.${p.family}`
    .normalize('NFD')
    .replace(/\p{M}/gu, '')
    .replace(/[^A-Za-z.]/g, '')
    .toLowerCase()}@${domain}`;

export const practitioner = (p: ProfessionalSpec, mailDomain: string): Practitioner => ({
  resourceType: 'Practitioner',
  id: `pr-${p.slug}`,
  identifier: p.rpps ? professionalIds(p.rpps) : [{ system: LOCAL_ID_SYSTEM, value: `pr-${p.slug}` }],
  active: true,
  name: [{ use: 'usual', family: p.family, given: [p.given], ...(p.prefix ? { prefix: [p.prefix] } : {}) }],
  gender: p.gender,
  telecom: [{ system: 'email', value: emailOf(p, mailDomain), use: 'work' }],
});

/** The roles of a professional, id `role-<slug>-<organisation id>`, with the structure's phone. */
export const practitionerRoles = (p: ProfessionalSpec, organizations: Organization[], mailDomain: string): PractitionerRole[] =>
  p.roles.map((r) => {
    const organization = organizations.find((o) => o.id === r.org);
    if (!organization) throw new Error(`No organisation ${r.org} for ${p.slug}`);
    const telecom: ContactPoint[] = [{ system: 'email', value: emailOf(p, mailDomain), use: 'work' }, ...(organization.telecom ?? [])];
    return {
      resourceType: 'PractitionerRole',
      id: `role-${p.slug}-${r.org}`,
      active: true,
      period: { start: r.since },
      practitioner: { reference: `Practitioner/pr-${p.slug}`, display: `${p.prefix ? `${p.prefix} ` : ''}${p.given} ${p.family}` },
      organization: { reference: `Organization/${r.org}`, display: organization.name },
      code: r.code,
      ...(r.specialty ? { specialty: r.specialty } : {}),
      telecom,
    };
  });
