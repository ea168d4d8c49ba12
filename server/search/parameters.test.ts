import { beforeAll, describe, expect, it } from 'vitest';
import { DATABASES, useServer } from '../../tests/harness.js';
import { all, FINESS, FR_ID_TYPES, FR_PATIENT, INS_NIR, LOINC, RPPS, SPECIALITE } from './fixtures.js';

/** Every parameter type and modifier, over HTTP, on French data (fixtures.ts). */
describe.each(DATABASES)('search parameters on %s', (kind) => {
  const t = useServer(kind);
  /** The ids a search matches, sorted; fails on anything but 200. */
  const ids = async (query: string): Promise<string[]> => {
    const res = await t.api.get(query);
    expect(res.status, `${query}: ${JSON.stringify(res.body)}`).toBe(200);
    return res.body.entry
      .filter((e: any) => e.search.mode === 'match')
      .map((e: any) => e.resource.id)
      .sort();
  };
  const q = encodeURIComponent;

  beforeAll(async () => {
    for (const r of all) expect((await t.api.put(`${r.resourceType}/${r.id}`, r)).status).toBe(201);
  });

  it('string: prefix, case and accent insensitive, :exact, :contains, on names and addresses', async () => {
    expect(await ids('Patient?name=helene')).toEqual(['helene']);
    expect(await ids('Patient?name=HÉL')).toEqual(['helene']);
    expect(await ids('Patient?family=lefevre')).toEqual(['zoe']);
    expect(await ids('Patient?name=lefevre')).toEqual(['zoe']);
    // A prefix is a prefix: not the text just below it, and no LIKE wildcards.
    expect(await ids('Patient?family=lefevrd')).toEqual([]);
    expect(await ids(`Patient?family=${q('lef%')}`)).toEqual([]);
    expect(await ids('Patient?family=le_evre')).toEqual([]);
    expect(await ids('Patient?family:contains=lefevre')).toEqual(['helene', 'zoe']);
    expect(await ids('Patient?family:exact=Lefèvre')).toEqual(['zoe']);
    expect(await ids('Patient?family:exact=lefevre')).toEqual([]);
    expect(await ids('Patient?address-city=saint-etienne')).toEqual(['helene']);
    expect(await ids('Patient?address=tilleuls')).toEqual([]);
    expect(await ids('Patient?address:contains=tilleuls')).toEqual(['helene']);
    expect(await ids('Organization?name=maison de sante')).toEqual(['msp-tilleuls']);
    // OR by comma, AND by repetition
    expect(await ids('Patient?given=zoe,jerome')).toEqual(['jerome', 'zoe']);
    expect(await ids('Patient?given=helene&given=marie')).toEqual(['helene']);
    expect(await ids('Patient?given=helene&given=zoe')).toEqual([]);
  });

  it('token: system|code, code, system|, |code, :not, :text, :of-type, booleans', async () => {
    expect(await ids(`Patient?identifier=${q(`${INS_NIR}|250067512345608`)}`)).toEqual(['helene']);
    expect(await ids('Patient?identifier=250067512345608')).toEqual(['helene']);
    expect(await ids(`Patient?identifier=${q(`${INS_NIR}|`)}`)).toEqual(['helene', 'jerome']);
    expect(await ids(`Patient?identifier=${q('|250067512345608')}`)).toEqual([]);
    expect(await ids(`Practitioner?identifier=${q(`${RPPS}|10003461033`)}`)).toEqual(['emilie']);
    expect(await ids(`Organization?identifier=${q(`${FINESS}|420012345`)}`)).toEqual(['msp-tilleuls']);
    expect(await ids(`Practitioner?identifier:of-type=${q(`${FR_ID_TYPES}|RPPS|10101010108`)}`)).toEqual(['francois']);
    expect(await ids(`Organization?identifier:of-type=${q(`${FR_ID_TYPES}|RPPS|420012345`)}`)).toEqual([]);
    expect(await ids(`PractitionerRole?specialty=${q(`${SPECIALITE}|SM54`)}`)).toEqual(['emilie-msp']);
    expect(await ids('PractitionerRole?specialty:text=medecine')).toEqual(['emilie-msp']);
    expect(await ids('PractitionerRole?specialty:not=SM54')).toEqual(['francois-msp']);
    expect(await ids('Patient?gender=female,male')).toEqual(['helene', 'jerome']);
    expect(await ids('Patient?gender:not=female')).toEqual(['jerome', 'zoe']);
    // a code with a required binding implies the code system of its value set
    expect(await ids(`Patient?gender=${q('http://hl7.org/fhir/administrative-gender|female')}`)).toEqual(['helene']);
    expect(await ids(`CarePlan?intent=${q('http://hl7.org/fhir/request-intent|plan')}`)).toEqual(['ppcs-helene', 'ppcs-jerome']);
    expect(await ids(`Patient?gender=${q('urn:other|female')}`)).toEqual([]);
    expect(await ids('Patient?active=false')).toEqual(['zoe']);
    expect(await ids('Patient?telecom=0477000001')).toEqual(['helene']);
    expect(await ids('Patient?_id=helene,zoe')).toEqual(['helene', 'zoe']);
    expect(await ids('Patient?_id:not=helene')).toEqual(['jerome', 'zoe']);
  });

  it('escapes \\, \\| and \\$ in values', async () => {
    const odd = { resourceType: 'Patient', id: 'escape', identifier: [{ system: 'urn:x', value: 'a,b|c$d' }], name: [{ family: 'Virgule, Barre' }] };
    await t.api.put('Patient/escape', odd);
    expect(await ids(`Patient?identifier=${q('urn:x|a\\,b\\|c\\$d')}`)).toEqual(['escape']);
    expect(await ids(`Patient?family:exact=${q('Virgule\\, Barre')}`)).toEqual(['escape']);
    expect(await ids(`Patient?identifier=${q('urn:x|a,b')}`)).toEqual([]);
    await t.api.delete('Patient/escape');
  });

  it('date: implicit ranges and precision, every prefix, periods', async () => {
    expect(await ids('Patient?birthdate=1950')).toEqual(['helene']);
    expect(await ids('Patient?birthdate=1950-06')).toEqual(['helene']);
    expect(await ids('Patient?birthdate=1950-06-02')).toEqual([]);
    expect(await ids('Patient?birthdate=2001-03-04')).toEqual([]); // 2001 is wider than that day
    expect(await ids('Patient?birthdate=2001')).toEqual(['zoe']);
    expect(await ids('Patient?birthdate=ne1950')).toEqual(['jerome', 'zoe']);
    expect(await ids('Patient?birthdate=gt1982-11-23')).toEqual(['zoe']);
    expect(await ids('Patient?birthdate=ge1982-11-23')).toEqual(['jerome', 'zoe']);
    expect(await ids('Patient?birthdate=lt1982-11-23')).toEqual(['helene']);
    expect(await ids('Patient?birthdate=le1982-11-23')).toEqual(['helene', 'jerome']);
    expect(await ids('Patient?birthdate=sa1982-12')).toEqual(['zoe']);
    expect(await ids('Patient?birthdate=eb1982')).toEqual(['helene']);
    expect(await ids('Patient?birthdate=ap1950-06-03')).toEqual(['helene']);
    expect(await ids('Patient?birthdate=ge1950&birthdate=lt2000')).toEqual(['helene', 'jerome']);
    // timezones: 10:30+01:00 is 09:30Z
    expect(await ids(`Observation?date=${q('2024-03-15T09:30:00Z')}`)).toEqual(['bp-helene-1']);
    expect(await ids(`Observation?date=${q('2024-03-15T10:30:00Z')}`)).toEqual([]);
    expect(await ids('Observation?date=2024-03')).toEqual(['bp-helene-1', 'poids-jerome']);
    // a Period: [2024-01-01, 2024-12-31] is within 2024, an open end is not within anything
    expect(await ids('CarePlan?date=2024')).toEqual(['ppcs-helene']);
    expect(await ids('CarePlan?date=ge2025')).toEqual(['ppcs-jerome']);
    expect(await ids('CarePlan?date=sa2023-12-31')).toEqual(['ppcs-helene']);
    expect(await ids(`Patient?_lastUpdated=gt${q(new Date(Date.now() - 3600_000).toISOString())}`)).toHaveLength(3);
    expect(await ids('Patient?_lastUpdated=lt2000')).toEqual([]);
  });

  it('number and quantity: implicit precision, prefixes, units', async () => {
    expect(await ids('RiskAssessment?probability=0.35')).toEqual(['risque-chute']);
    expect(await ids('RiskAssessment?probability=0.3')).toEqual([]);
    expect(await ids('RiskAssessment?probability=gt0.3')).toEqual(['risque-chute']);
    expect(await ids('RiskAssessment?probability=le0.2')).toEqual([]);
    expect(await ids(`Observation?value-quantity=${q('81.5|http://unitsofmeasure.org|kg')}`)).toEqual(['poids-jerome']);
    expect(await ids('Observation?value-quantity=82')).toEqual(['poids-jerome']); // [81.5, 82.5)
    expect(await ids('Observation?value-quantity=83')).toEqual([]);
    expect(await ids('Observation?value-quantity=8e1')).toEqual(['poids-jerome']);
    expect(await ids(`Observation?value-quantity=${q('gt80||kg')}`)).toEqual(['poids-jerome']);
    expect(await ids(`Observation?value-quantity=${q('gt80||mmHg')}`)).toEqual([]);
    expect(await ids('Observation?value-quantity=lt80')).toEqual([]);
    expect(await ids('Observation?value-quantity=ap80')).toEqual(['poids-jerome']);
  });

  it('uri: exact, :below, :above; _profile, _tag, _source from meta', async () => {
    expect(await ids(`Patient?_profile=${q(FR_PATIENT)}`)).toEqual(['helene']);
    expect(await ids(`Patient?_profile:below=${q('https://hl7.fr/ig/fhir/core')}`)).toEqual(['helene']);
    expect(await ids(`Patient?_profile:above=${q(`${FR_PATIENT}/extra`)}`)).toEqual(['helene']);
    expect(await ids(`Patient?_profile:below=${q('https://hl7.fr/ig/fhir/other')}`)).toEqual([]);
    expect(await ids(`Patient?_tag=${q('urn:maillage:test|pole-tilleuls')}`)).toEqual(['helene']);
    expect(await ids(`Patient?_source=${q('urn:logiciel:cabinet-a')}`)).toEqual(['helene']);
  });

  it('reference: Type/id, bare id, absolute local URL, :[type], :identifier, :missing', async () => {
    expect(await ids('Observation?subject=Patient/helene')).toEqual(['bp-helene-1', 'bp-helene-2']);
    expect(await ids('Observation?subject=helene')).toEqual(['bp-helene-1', 'bp-helene-2']);
    expect(await ids(`Observation?subject=${q(`${t.server.base}/Patient/jerome`)}`)).toEqual(['poids-jerome']);
    expect(await ids('Observation?subject:Patient=jerome')).toEqual(['poids-jerome']);
    expect(await ids('Observation?subject:Group=jerome')).toEqual([]);
    expect(await ids('Observation?patient=jerome')).toEqual(['poids-jerome']);
    expect(await ids('Patient?general-practitioner=Practitioner/emilie')).toEqual(['helene', 'zoe']);
    expect(await ids('CarePlan?care-team:missing=true')).toEqual(['ppcs-jerome']);
    expect(await ids('Patient?gender:missing=true')).toEqual(['zoe']);
    expect(await ids('Patient?gender:missing=false')).toEqual(['helene', 'jerome']);
    const withIdentifier = {
      resourceType: 'Observation',
      id: 'ref-ins',
      status: 'final',
      code: { text: 'x' },
      subject: { identifier: { system: INS_NIR, value: '250067512345608' } },
    };
    await t.api.put('Observation/ref-ins', withIdentifier);
    expect(await ids(`Observation?subject:identifier=${q(`${INS_NIR}|250067512345608`)}`)).toEqual(['ref-ins']);
    await t.api.delete('Observation/ref-ins');
  });

  it('a parameter derived from another (patient: subject on a Patient) in every kind of search', async () => {
    // Observation.patient is subject.where(resolve() is Patient): found in subject's index rows.
    const group = { resourceType: 'Observation', id: 'of-group', status: 'final', code: { text: 'x' }, subject: { reference: 'Group/helene' } };
    const absolute = {
      resourceType: 'Observation',
      id: 'absolute',
      status: 'final',
      code: { text: 'x' },
      subject: { reference: `${t.server.base}/Patient/zoe` },
    };
    const byIdentifier = {
      resourceType: 'Observation',
      id: 'by-ins',
      status: 'final',
      code: { text: 'x' },
      subject: { type: 'Patient', identifier: { system: INS_NIR, value: '250067512345608' } },
    };
    for (const r of [group, absolute, byIdentifier]) expect((await t.api.put(`Observation/${r.id}`, r)).status).toBe(201);
    try {
      expect(await ids('Observation?patient=helene')).toEqual(['bp-helene-1', 'bp-helene-2']);
      expect(await ids('Observation?patient=Patient/helene,zoe')).toEqual(['absolute', 'bp-helene-1', 'bp-helene-2']);
      expect(await ids('Observation?patient=Group/helene')).toEqual([]);
      expect(await ids('Observation?subject=Group/helene')).toEqual(['of-group']);
      expect(await ids(`Observation?patient:identifier=${q(`${INS_NIR}|250067512345608`)}`)).toEqual(['by-ins']);
      expect(await ids('Observation?patient:missing=true&code:text=x')).toEqual(['by-ins', 'of-group']);
      expect(await ids('Observation?patient.name=lefevre')).toEqual(['absolute']);
      expect(await ids('Patient?_has:Observation:patient:code=29463-7')).toEqual(['jerome']);
      expect(await ids('Patient?_has:Observation:patient:code:text=x')).toEqual(['zoe']);
      const included = await t.api.get('Observation?_id=bp-helene-1,of-group&_include=Observation:patient');
      expect(included.body.entry.filter((e: any) => e.search.mode === 'include').map((e: any) => e.resource.id)).toEqual(['helene']);
      const revincluded = await t.api.get('Patient?_id=zoe&_revinclude=Observation:patient');
      expect(revincluded.body.entry.map((e: any) => e.resource.id).sort()).toEqual(['absolute', 'zoe']);
      expect((await t.api.get('Patient/helene/Observation')).body.entry.map((e: any) => e.resource.id).sort()).toEqual(['bp-helene-1', 'bp-helene-2']);
      const sorted = await t.api.get('Observation?_id=poids-jerome,bp-helene-1,of-group&_sort=-patient');
      expect(sorted.body.entry.map((e: any) => e.resource.id)).toEqual(['poids-jerome', 'bp-helene-1', 'of-group']);
    } finally {
      for (const r of [group, absolute, byIdentifier]) await t.api.delete(`Observation/${r.id}`);
    }
  });

  it('composite: component values matched from the same element', async () => {
    const cvq = (v: string) => ids(`Observation?component-code-value-quantity=${q(v)}`);
    expect(await cvq(`${LOINC}|8480-6$gt150`)).toEqual(['bp-helene-1']);
    expect(await cvq(`${LOINC}|8462-4$gt90`)).toEqual(['bp-helene-2']);
    // 152 is a systolic value and 95 a diastolic one, never together with the other code
    expect(await cvq(`${LOINC}|8462-4$gt150`)).toEqual([]);
    expect(await cvq(`${LOINC}|8480-6$lt100,${LOINC}|8462-4$ge95`)).toEqual(['bp-helene-2']);
    expect(await ids(`Observation?code-value-quantity=${q(`${LOINC}|29463-7$81.5`)}`)).toEqual(['poids-jerome']);
  });

  it('full text: _content over every text, _text over the narrative, French stemming without accents', async () => {
    expect(await ids('Patient?_content=insuffisance')).toEqual(['helene']);
    expect(await ids('Patient?_text=cardiaques')).toEqual(['helene']);
    expect(await ids('Patient?_content=saint-etienne')).toEqual(['helene']);
    expect(await ids('Patient?_text=tilleuls')).toEqual([]);
    expect(await ids(`Patient?_text:exact=${q('Parcours de soins')}`)).toEqual(['helene']);
    expect(await ids(`Patient?_text:exact=${q('soins parcours')}`)).toEqual([]);
    expect(await ids('Patient?_content=insuff')).toEqual([]);
    expect(await ids(`Patient?_content:contains=${q('insuff card')}`)).toEqual(['helene']);
    expect(await ids(`Patient?_content:contains=${q('insuff diab')}`)).toEqual([]);
    expect(await ids('Patient?_content=tilleuls')).toEqual(['helene']);
    expect(await ids(`Patient?_content=${q('"parcours de soins" -diabete')}`)).toEqual(['helene']);
    // Words only: not the references, URIs and dates, which have their own parameters.
    expect(await ids('Patient?_content=emilie')).toEqual([]);
    expect(await ids('Patient?_content=1950-06-01')).toEqual([]);
    expect(await ids('Patient?_content=0477000001')).toEqual(['helene']);
    // The server's own records (one per access) have no full text.
    expect((await t.api.get('AuditEvent?_content=lecture', { prefer: 'handling=strict' })).status).toBe(400);
    expect((await t.api.get('Provenance?_text=auteur', { prefer: 'handling=strict' })).status).toBe(400);
    expect((await t.api.get('Consent?_content=opposition', { prefer: 'handling=strict' })).status).toBe(200);
  });

  it('unknown parameters: ignored and reported (lenient), 400 (strict); unsupported modifiers and malformed values: 400', async () => {
    const lenient = await t.api.get('Patient?nom=x&gender=female');
    expect(lenient.status).toBe(200);
    const matches = lenient.body.entry.filter((e: any) => e.search.mode === 'match');
    expect(matches.map((e: any) => e.resource.id)).toEqual(['helene']);
    const outcome = lenient.body.entry.find((e: any) => e.search.mode === 'outcome').resource;
    expect(outcome.issue[0].diagnostics).toContain('nom');
    expect(lenient.body.link[0].url).toBe(`${t.server.base}/Patient?gender=female`);
    // A widened search would answer what was not asked (R4 search.html: servers SHALL reject unsupported modifiers).
    for (const bad of [
      'Patient?birthdate=hier',
      'Patient?name:sounds=x',
      'Patient?name:foo=x',
      'Patient?birthdate:exact=1950-06-01',
      'Observation?value-quantity=abc',
      'Patient?gender:missing=maybe',
      'RiskAssessment?probability=abc',
      'Patient?birthdate=zz2020',
    ]) {
      const res = await t.api.get(bad);
      expect(res.status, bad).toBe(400);
      expect(res.body.resourceType).toBe('OperationOutcome');
    }
    for (const bad of ['Patient?nom=x', 'Patient?birthdate=hier', 'Patient?name:sounds=x', 'Observation?value-quantity=abc', 'Patient?gender:missing=maybe']) {
      const strict = await t.api.get(bad, { prefer: 'handling=strict' });
      expect(strict.status, bad).toBe(400);
      expect(strict.body.resourceType).toBe('OperationOutcome');
    }
    for (const bad of ['Patient?_count=-1', 'Patient?_total=some', 'Patient?_summary=maybe', 'Patient?_cursor=abc', 'Patient?_type=Nope']) {
      expect((await t.api.get(bad)).status, bad).toBe(400);
    }
  });
});
