import { beforeAll, describe, expect, it } from 'vitest';
import { DATABASES, useServer } from '../../tests/harness.js';
import { NOS, ROLES, roles } from '../terminology/fixtures.js';

const R38 = NOS('TRE_R38-SpecialiteOrdinale');
const R21 = NOS('TRE_R21-Fonction');
const R85 = NOS('TRE_R85-RolePriseCharge');
const J108 = NOS('JDV_J108-EnsembleFonction-RASS');
const SPECIALTIES = 'http://maillage.test/ValueSet/specialites-medicales';

/** Every R38 speciality but the deprecated SP ones: a whole system with an exclusion. */
const specialties = {
  resourceType: 'ValueSet',
  id: 'test-specialites',
  url: SPECIALTIES,
  status: 'active',
  compose: { include: [{ system: R38 }], exclude: [{ system: R38, filter: [{ property: 'status', op: '=', value: 'deprecated' }] }] },
};

const role = (id: string, specialty: { system: string; code: string; display?: string }[], code: { system: string; code: string }[] = []) => ({
  resourceType: 'PractitionerRole',
  id,
  specialty: specialty.map((c) => ({ coding: [c] })),
  // R4 JSON has no empty arrays: a role without code leaves the element out.
  ...(code.length ? { code: code.map((c) => ({ coding: [c] })) } : {}),
});

const data = [
  roles,
  specialties,
  role('generaliste', [{ system: R38, code: 'SM54', display: 'Médecine générale' }], [{ system: R21, code: 'FON-01' }]),
  role('cardiologue', [{ system: R38, code: 'SM04' }], [{ system: R85, code: '307' }]),
  role('pharmacien', [{ system: R38, code: 'SP01', display: 'Radio-pharmacie' }], [{ system: R21, code: 'FON-03' }]),
  role('local-generaliste', [{ system: ROLES, code: 'generaliste', display: 'Médecin de famille' }]),
  role('local-soignant', [{ system: ROLES, code: 'soignant' }]),
  role('aidant', [{ system: ROLES, code: 'aidant', display: 'Aidant' }], [{ system: 'http://maillage.test/autre', code: 'FON-01' }]),
];

/** The token modifiers that need terminology, over HTTP, with the NOS code systems installed. */
describe.each(DATABASES)('terminology search modifiers on %s', (kind) => {
  const t = useServer(kind, { terminology: 'nos' });
  const ids = async (query: string): Promise<string[]> => {
    const res = await t.api.get(query);
    expect(res.status, `${query}: ${JSON.stringify(res.body)}`).toBe(200);
    return res.body.entry
      .filter((e: { search: { mode: string } }) => e.search.mode === 'match')
      .map((e: { resource: { id: string } }) => e.resource.id)
      .sort();
  };
  const q = encodeURIComponent;

  beforeAll(async () => {
    for (const r of data) expect((await t.api.put(`${r.resourceType}/${r.id}`, r)).status).toBe(201);
  });

  it(':in and :not-in: the codes of a value set (NOS or stored), in their system', async () => {
    expect(await ids(`PractitionerRole?role:in=${q(J108)}`)).toEqual(['cardiologue', 'generaliste', 'pharmacien']);
    expect(await ids(`PractitionerRole?specialty:in=${q(SPECIALTIES)}`)).toEqual(['cardiologue', 'generaliste']);
    expect(await ids(`PractitionerRole?specialty:not-in=${q(SPECIALTIES)}`)).toEqual(['aidant', 'local-generaliste', 'local-soignant', 'pharmacien']);
    // Values ORed; with a chain through _has.
    expect(await ids(`PractitionerRole?specialty:in=${q(SPECIALTIES)},${q(`${J108}|20260505120000`)}`)).toEqual(['cardiologue', 'generaliste']);
    const unknown = await t.api.get(`PractitionerRole?specialty:in=${q('http://nowhere/ValueSet/x')}`);
    expect(unknown.status).toBe(400);
    expect(unknown.body.issue[0].diagnostics).toContain('not held');
  });

  it(':below and :above: a code with those under or over it in its code system', async () => {
    expect(await ids(`PractitionerRole?specialty:below=${q(`${ROLES}|medecin`)}`)).toEqual(['local-generaliste']);
    expect(await ids(`PractitionerRole?specialty:below=${q(`${ROLES}|soignant`)}`)).toEqual(['local-generaliste', 'local-soignant']);
    expect(await ids(`PractitionerRole?specialty:above=${q(`${ROLES}|generaliste`)}`)).toEqual(['local-generaliste', 'local-soignant']);
    expect(await ids(`PractitionerRole?specialty:above=${q(`${ROLES}|aidant`)}`)).toEqual(['aidant']);
    // A flat NOS code system: the code alone; without system, the code in any system.
    expect(await ids(`PractitionerRole?specialty:below=${q(`${R38}|SM54`)}`)).toEqual(['generaliste']);
    expect(await ids('PractitionerRole?role:below=FON-01')).toEqual(['aidant', 'generaliste']);
  });

  it(':text: words of the display or text, without case or accents', async () => {
    expect(await ids('PractitionerRole?specialty:text=generale')).toEqual(['generaliste']);
    expect(await ids('PractitionerRole?specialty:text=MÉDECIN')).toEqual(['generaliste', 'local-generaliste']);
    expect(await ids('PractitionerRole?specialty:text=med fam')).toEqual(['local-generaliste']);
    expect(await ids('PractitionerRole?specialty:text=pharmacie')).toEqual(['pharmacien']);
    expect(await ids('PractitionerRole?specialty:text=decine')).toEqual([]);
  });

  it(':text also matches codes by their display in the terminology, when the resource gives none', async () => {
    // SM04 is coded without display; R38 names it "Cardio et Maladies vasculaires".
    expect(await ids('PractitionerRole?specialty:text=cardio')).toEqual(['cardiologue']);
    expect(await ids('PractitionerRole?specialty:text=maladies vasc')).toEqual(['cardiologue']);
    // FON-01 "Titulaire de cabinet" and FON-03 "Titulaire d'officine"; FON-01 of another system is not matched.
    expect(await ids('PractitionerRole?role:text=titulaire')).toEqual(['generaliste', 'pharmacien']);
    expect(await ids('PractitionerRole?role:text=titulaire cabinet')).toEqual(['generaliste']);
  });

  it('applies the modifiers in chains and reverse chains', async () => {
    const practitioner = { resourceType: 'Practitioner', id: 'dr-durand', name: [{ family: 'Durand' }] };
    expect((await t.api.put('Practitioner/dr-durand', practitioner)).status).toBe(201);
    const linked = { ...role('durand-role', [{ system: R38, code: 'SM54' }]), practitioner: { reference: 'Practitioner/dr-durand' } };
    expect((await t.api.put('PractitionerRole/durand-role', linked)).status).toBe(201);
    expect(await ids(`Practitioner?_has:PractitionerRole:practitioner:specialty:in=${q(SPECIALTIES)}`)).toEqual(['dr-durand']);
    expect(await ids(`PractitionerRole?practitioner.name=durand&specialty:not-in=${q(SPECIALTIES)}`)).toEqual([]);
  });
});
