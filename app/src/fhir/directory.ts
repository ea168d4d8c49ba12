import type { Bundle, Coding, ValueSet } from '@medplum/fhirtypes';
import { matches, ResourceIndex } from './bundle.js';
import { codeText, contact, personName, professionLabel } from './format.js';

export const RPPS = 'https://rpps.esante.gouv.fr';
export const IDNPS = 'urn:oid:1.2.250.1.71.4.2.1';
export const FINESS = 'https://finess.esante.gouv.fr';

/** The Annuaire value sets of professions and specialties (savoir-faire) the type-ahead expands. */
export const TYPEAHEAD_VALUE_SETS = [
  'https://mos.esante.gouv.fr/NOS/JDV_J106-EnsembleProfession-RASS/FHIR/JDV-J106-EnsembleProfession-RASS',
  'https://mos.esante.gouv.fr/NOS/JDV_J107-EnsembleSavoirFaire-RASS/FHIR/JDV-J107-EnsembleSavoirFaire-RASS',
];

export interface DirectoryQuery {
  name: string;
  /** A profession (searched on PractitionerRole.code) or a specialty (PractitionerRole.specialty). */
  speciality?: Coding;
  commune: string;
  identifier: string;
}

const isSpecialty = (c: Coding) => !!c.system?.includes('TRE_R38') || !!c.system?.includes('SavoirFaire');

/** The two searches of a directory query: professionals (by role) and structures; undefined when one cannot apply. */
export function directorySearches(q: DirectoryQuery): { roles?: string; structures?: string } {
  const id = q.identifier.replace(/\s/g, '');
  const rolesParams = new URLSearchParams({ active: 'true', _count: '50' });
  const structParams = new URLSearchParams({ active: 'true', _count: '50' });
  if (q.name.trim()) {
    rolesParams.set('practitioner.name', q.name.trim());
    structParams.set('name', q.name.trim());
  }
  if (q.commune.trim()) {
    rolesParams.set('organization.address-city', q.commune.trim());
    structParams.set('address-city', q.commune.trim());
  }
  if (q.speciality?.code) rolesParams.set(isSpecialty(q.speciality) ? 'specialty' : 'role', `${q.speciality.system}|${q.speciality.code}`);
  // No criterion: the whole directory, to browse.
  const browse = !q.name.trim() && !q.commune.trim() && !q.speciality && !id;
  if (browse) for (const params of [rolesParams, structParams]) params.set('_count', '500');
  let rolesOk = !!(browse || q.name.trim() || q.commune.trim() || q.speciality);
  let structOk = !!(browse || q.name.trim() || q.commune.trim()) && !q.speciality;
  if (/^\d{11}$/.test(id)) rolesParams.set('practitioner.identifier', `${RPPS}|${id}`);
  else if (/^8\d{11}$/.test(id)) rolesParams.set('practitioner.identifier', `${IDNPS}|${id}`);
  else if (/^[0-9AB]{9}$/i.test(id)) structParams.set('identifier', `${FINESS}|${id.toUpperCase()}`);
  if (id) {
    rolesOk = rolesParams.has('practitioner.identifier');
    structOk = structParams.has('identifier');
  }
  rolesParams.append('_include', 'PractitionerRole:practitioner');
  rolesParams.append('_include', 'PractitionerRole:organization');
  return {
    ...(rolesOk ? { roles: `PractitionerRole?${rolesParams}` } : {}),
    ...(structOk ? { structures: `Organization?${structParams}` } : {}),
  };
}

export interface DirectoryRow {
  kind: 'professionnel' | 'structure';
  reference: string;
  name: string;
  what: string;
  where: string;
  identifier: string;
  phone?: string;
  email?: string;
}

export function directoryRows(roles: Bundle | undefined, structures: Bundle | undefined): DirectoryRow[] {
  const index = new ResourceIndex(roles);
  const people = matches(roles, 'PractitionerRole').map((r): DirectoryRow => {
    const p = index.get('Practitioner', r.practitioner);
    const org = index.get('Organization', r.organization);
    const rpps = p?.identifier?.find((i) => i.system === RPPS)?.value;
    return {
      kind: 'professionnel',
      reference: `PractitionerRole/${r.id}`,
      name: p ? personName(p.name) : (r.practitioner?.display ?? ''),
      what: professionLabel(r, p?.gender),
      where: [org?.name ?? r.organization?.display, org?.address?.[0]?.city].filter(Boolean).join(', '),
      identifier: rpps ? `RPPS ${rpps}` : '',
      phone: contact(r.telecom, 'phone') ?? contact(org?.telecom, 'phone'),
      email: contact(r.telecom, 'email') ?? contact(p?.telecom, 'email'),
    };
  });
  const orgs = matches(structures, 'Organization').map((o): DirectoryRow => {
    const finess = o.identifier?.find((i) => i.system === FINESS)?.value;
    return {
      kind: 'structure',
      reference: `Organization/${o.id}`,
      name: o.name ?? '',
      what: o.type?.map(codeText).filter(Boolean).join(', ') ?? '',
      where: [o.address?.[0]?.line?.join(' '), o.address?.[0]?.postalCode, o.address?.[0]?.city].filter(Boolean).join(' '),
      identifier: finess ? `FINESS ${finess}` : '',
      phone: contact(o.telecom, 'phone'),
      email: contact(o.telecom, 'email'),
    };
  });
  return [...people, ...orgs].sort((a, b) => a.name.localeCompare(b.name, 'fr'));
}

/** Suggestions of a `$expand` answer. */
export const expansionCodings = (vs: ValueSet): Coding[] => (vs.expansion?.contains ?? []).map((c) => ({ system: c.system, code: c.code, display: c.display }));

const fold = (s: string) => s.normalize('NFD').replace(/\p{M}/gu, '').toLowerCase();

/**
 * Type-ahead without `$expand` (a server that does not have it yet): the professions and
 * specialties the pôle's roles carry, filtered on their display without case or accents.
 */
export function localSuggestions(roles: Bundle | undefined, text: string, max = 10): Coding[] {
  const seen = new Map<string, Coding>();
  for (const r of matches(roles, 'PractitionerRole')) {
    for (const c of [...(r.code ?? []), ...(r.specialty ?? [])].flatMap((x) => x.coding ?? [])) {
      if (c.code && c.display && !seen.has(`${c.system}|${c.code}`)) seen.set(`${c.system}|${c.code}`, c);
    }
  }
  const wanted = fold(text.trim());
  return [...seen.values()].filter((c) => fold(c.display ?? '').includes(wanted)).slice(0, max);
}
