import type { Bundle, CareTeam, CareTeamParticipant, Patient } from '@medplum/fhirtypes';
import { matches, type ResourceIndex } from './bundle.js';
import { age, codeText, contact, patientName, personName, professionLabel, refText } from './format.js';

const RELIABILITY = 'https://hl7.fr/ig/fhir/core/StructureDefinition/fr-core-identity-reliability';
/** INS OIDs: NIR, NIA, then the test and demo ones (never in production). */
const INS_SYSTEMS: Record<string, string> = {
  'urn:oid:1.2.250.1.213.1.4.8': 'INS-NIR',
  'urn:oid:1.2.250.1.213.1.4.9': 'INS-NIA',
  'urn:oid:1.2.250.1.213.1.4.10': 'INS-NIR de test',
  'urn:oid:1.2.250.1.213.1.4.11': 'INS-NIR de démonstration',
};
/** FR Core identity statuses (RNIV): only a qualified identity may be shared with its INS. */
const IDENTITY_STATUS: Record<string, string> = {
  PROV: 'Identité provisoire',
  RECUP: 'Identité récupérée',
  VALI: 'Identité validée',
  QUAL: 'Identité qualifiée',
};

export interface Identity {
  id: string;
  name: string;
  gender: string;
  /** "née", "né", or "né(e)" only when the sex is not known. */
  born: string;
  birthDate?: string;
  age?: number;
  status: string;
  statusCode?: string;
  ins?: { kind: string; value: string };
  phone?: string;
  address: string;
}

export function identity(p: Patient, today: Date): Identity {
  const statusCode = p.extension?.find((e) => e.url === RELIABILITY)?.extension?.find((e) => e.url === 'identityStatus')?.valueCoding?.code;
  const ins = p.identifier?.find((i) => i.system && INS_SYSTEMS[i.system]);
  const a = p.address?.[0];
  return {
    id: p.id as string,
    name: patientName(p.name),
    gender: p.gender === 'female' ? 'Femme' : p.gender === 'male' ? 'Homme' : 'Sexe non renseigné',
    born: p.gender === 'female' ? 'née' : p.gender === 'male' ? 'né' : 'né(e)',
    birthDate: p.birthDate,
    age: age(p.birthDate, today),
    status: (statusCode && IDENTITY_STATUS[statusCode]) ?? 'Statut de l’identité non renseigné',
    statusCode,
    ...(ins ? { ins: { kind: INS_SYSTEMS[ins.system as string], value: ins.value ?? '' } } : {}),
    phone: contact(p.telecom, 'phone'),
    address: a ? [a.line?.join(' '), [a.postalCode, a.city].filter(Boolean).join(' ')].filter(Boolean).join(', ') : '',
  };
}

export interface Member {
  /** Position in CareTeam.participant: what an edit changes. */
  index: number;
  roles: string;
  name: string;
  reference?: string;
  what: string;
  organization: string;
  phone?: string;
  email?: string;
  start?: string;
  end?: string;
  active: boolean;
}

/** The members of a cercle de soins, with the people and structures the search included. */
export function careTeamMembers(team: CareTeam, index: ResourceIndex, today: string): Member[] {
  return (team.participant ?? []).map((p: CareTeamParticipant, i): Member => {
    const role = index.get('PractitionerRole', p.member);
    const practitioner = index.get('Practitioner', role?.practitioner ?? p.member);
    const org = index.get('Organization', role?.organization ?? p.onBehalfOf ?? p.member);
    const related = index.get('RelatedPerson', p.member);
    const end = p.period?.end;
    return {
      index: i,
      roles: p.role?.map(codeText).filter(Boolean).join(', ') || 'Membre',
      name: practitioner ? personName(practitioner.name) : related ? personName(related.name) : org && !role ? (org.name ?? '') : refText(p.member),
      reference: p.member?.reference,
      what: professionLabel(role, practitioner?.resourceType === 'Practitioner' ? practitioner.gender : undefined),
      organization: org?.name ?? refText(role?.organization),
      phone: contact(role?.telecom, 'phone') ?? contact(org?.telecom, 'phone') ?? contact(related?.telecom, 'phone'),
      email: contact(role?.telecom, 'email') ?? contact(practitioner?.telecom, 'email'),
      start: p.period?.start,
      end,
      active: !end || end >= today,
    };
  });
}

/** The patient's one cercle de soins (ANS CDS) in a CareTeam search. */
export const careTeamOf = (bundle: Bundle | undefined): CareTeam | undefined => matches(bundle, 'CareTeam')[0];

/** The team with one more member, from today. */
export function withMember(team: CareTeam, member: NonNullable<CareTeamParticipant['member']>, role: CareTeamParticipant['role'], start: string): CareTeam {
  return { ...team, participant: [...(team.participant ?? []), { role, member, period: { start } }] };
}

/** The team with the member at `index` ended on `end` (kept, for the record's history). */
export function withMemberEnded(team: CareTeam, index: number, end: string): CareTeam {
  return {
    ...team,
    participant: team.participant?.map((p, i) => (i === index ? { ...p, period: { ...p.period, start: p.period?.start ?? end, end } } : p)),
  };
}

/**
 * The search for what a user typed to find a patient: words are names, family and given in any
 * order (each must start a part of the name); a date (31/12/1950 or 1950-12-31) the birth date; a
 * number (an INS, a local identifier; spaces allowed) an identifier of any system.
 */
export function patientSearchQuery(typed: string): string {
  const params = new URLSearchParams();
  const text = typed.trim();
  const number = text.replace(/\s+/g, '');
  if (/^\d{6,}[A-Z0-9]*$/i.test(number) && /^\d/.test(number)) params.append('identifier', number);
  else {
    for (const word of text.split(/\s+/).filter(Boolean)) {
      const french = /^(\d{1,2})\/(\d{1,2})\/(\d{4})$/.exec(word);
      if (french) params.append('birthdate', `${french[3]}-${french[2].padStart(2, '0')}-${french[1].padStart(2, '0')}`);
      else if (/^\d{4}-\d{2}-\d{2}$/.test(word)) params.append('birthdate', word);
      else params.append('name', word);
    }
  }
  params.append('_sort', 'family');
  params.append('_count', '100');
  return `Patient?${params.toString()}`;
}
