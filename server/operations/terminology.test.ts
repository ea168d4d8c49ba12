import { beforeAll, describe, expect, it } from 'vitest';
import { DATABASES, useServer } from '../../tests/harness.js';
import { NOS, ROLES, roles } from '../terminology/fixtures.js';

const R38 = NOS('TRE_R38-SpecialiteOrdinale');
const G15 = NOS('TRE_G15-ProfessionSante');
const R66 = NOS('TRE_R66-CategorieEtablissement');
const J106 = NOS('JDV_J106-EnsembleProfession-RASS');

const valueSet = (compose: unknown, id?: string) => ({ resourceType: 'ValueSet', ...(id ? { id } : {}), status: 'active', compose });
const codes = (vs: { expansion: { contains?: { code: string }[] } }) => (vs.expansion.contains ?? []).map((c) => c.code);
const param = (p: { parameter: { name: string }[] }, name: string) => p.parameter.find((x) => x.name === name) as Record<string, unknown> | undefined;
const q = encodeURIComponent;

describe.each(DATABASES)('terminology operations on %s', (kind) => {
  const t = useServer(kind, { terminology: 'nos' });

  beforeAll(async () => {
    expect((await t.api.put('CodeSystem/test-roles', roles)).status).toBe(201);
  });

  it('$expand: a NOS value set by url or id, GET or POST, paged with count and offset', async () => {
    const all = await t.api.get(`ValueSet/$expand?url=${q(J106)}`);
    expect(all.status).toBe(200);
    expect(all.body.expansion.total).toBe(29);
    expect(codes(all.body).slice(0, 3)).toEqual(['10', '21', '26']);
    expect(param(all.body.expansion, 'used-codesystem')?.valueUri).toBe(`${G15}|20250328120000`);

    const page = await t.api.get(`ValueSet/$expand?url=${q(`${J106}|20260330120000`)}&count=10&offset=20`);
    expect(page.body.expansion).toMatchObject({ total: 29, offset: 20 });
    expect(codes(page.body)).toEqual(codes(all.body).slice(20, 29));

    const instance = await t.api.get('ValueSet/JDV-J106-EnsembleProfession-RASS/$expand?count=2');
    expect(codes(instance.body)).toEqual(['10', '21']);
    const posted = await t.api.post('ValueSet/JDV-J106-EnsembleProfession-RASS/$expand', {
      resourceType: 'Parameters',
      parameter: [
        { name: 'count', valueInteger: 1 },
        { name: 'offset', valueInteger: 1 },
      ],
    });
    expect(codes(posted.body)).toEqual(['21']);
  });

  it('$expand filter: type-ahead on word beginnings, without accents, display first; activeOnly leaves deprecated codes out', async () => {
    const r38 = valueSet({ include: [{ system: R38 }] });
    const expand = async (...parameter: unknown[]) =>
      (await t.api.post('ValueSet/$expand', { resourceType: 'Parameters', parameter: [{ name: 'valueSet', resource: r38 }, ...parameter] })).body;
    const cardio = await expand({ name: 'filter', valueString: 'cardio' });
    expect(codes(cardio)[0]).toBe('SM04');
    expect(codes(cardio)).toEqual(expect.arrayContaining(['SM04', 'SM11', 'SM73', 'SM79']));
    // Designations count: SM26 is "Qualifié MG", also named "Qualifié en Médecine générale".
    const medGen = codes(await expand({ name: 'filter', valueString: 'MED gén' }));
    expect(medGen[0]).toBe('SM54');
    expect(medGen).toEqual(expect.arrayContaining(['SM17', 'SM26', 'SM53']));
    expect(codes(await expand({ name: 'filter', valueString: 'geriatrie' }))).toEqual(['SM18']);
    expect(codes(await expand({ name: 'filter', valueString: 'hygiene' }))).toEqual(['SP02']);
    expect(codes(await expand({ name: 'filter', valueString: 'hygiene' }, { name: 'activeOnly', valueBoolean: true }))).toEqual([]);
    expect((await expand({ name: 'filter', valueString: 'hygiene' })).expansion.contains[0]).toMatchObject({ inactive: true, display: 'Hygiène' });
    const kine = await t.api.get(`ValueSet/$expand?url=${q(J106)}&filter=kine`);
    expect(kine.body.expansion.contains).toEqual([{ system: G15, version: '20250328120000', code: '70', display: 'Masseur-Kinésithérapeute' }]);
    // The code too: "SM5" begins SM54 and SM5x.
    expect(codes(await expand({ name: 'filter', valueString: 'sm54' }))).toEqual(['SM54']);
  });

  it('$expand compose: whole systems, is-a, descendent-of, is-not-a, =, exclude and nested value sets', async () => {
    const expand = async (compose: unknown) =>
      codes((await t.api.post('ValueSet/$expand', { resourceType: 'Parameters', parameter: [{ name: 'valueSet', resource: valueSet(compose) }] })).body);
    const filter = (op: string, value: string, property = 'concept') => ({ include: [{ system: ROLES, filter: [{ property, op, value }] }] });
    expect(await expand({ include: [{ system: ROLES }] })).toEqual(['soignant', 'medecin', 'generaliste', 'infirmier', 'cardiologue', 'aidant']);
    expect((await expand(filter('is-a', 'medecin'))).sort()).toEqual(['cardiologue', 'generaliste', 'medecin']);
    expect((await expand(filter('descendent-of', 'soignant'))).sort()).toEqual(['cardiologue', 'generaliste', 'infirmier', 'medecin']);
    expect(await expand(filter('is-not-a', 'soignant'))).toEqual(['aidant']);
    expect(await expand(filter('=', 'ville', 'secteur'))).toEqual(['medecin', 'generaliste']);
    expect(
      await expand({ include: [{ system: ROLES }], exclude: [{ system: ROLES, filter: [{ property: 'concept', op: 'is-a', value: 'medecin' }] }] }),
    ).toEqual(['soignant', 'infirmier', 'aidant']);
    // A stored value set included by canonical, intersected with a filter of the same include.
    const medecins = { ...valueSet(filter('is-a', 'medecin'), 'test-medecins'), url: 'http://maillage.test/ValueSet/medecins' };
    expect((await t.api.put('ValueSet/test-medecins', medecins)).status).toBe(201);
    expect(
      await expand({
        include: [{ valueSet: ['http://maillage.test/ValueSet/medecins'], system: ROLES, filter: [{ property: 'secteur', op: '=', value: 'ville' }] }],
      }),
    ).toEqual(['medecin', 'generaliste']);
    const unknownOp = await t.api.post('ValueSet/$expand', {
      resourceType: 'Parameters',
      parameter: [{ name: 'valueSet', resource: valueSet(filter('sounds-like', 'x')) }],
    });
    expect(unknownOp.status).toBe(422);
    expect(unknownOp.body.resourceType).toBe('OperationOutcome');
  });

  it('$expand displayLanguage picks designations in that language; includeDesignations lists them', async () => {
    const body = (language: string) => ({
      resourceType: 'Parameters',
      parameter: [
        { name: 'valueSet', resource: valueSet({ include: [{ system: ROLES, concept: [{ code: 'soignant' }, { code: 'medecin' }, { code: 'aidant' }] }] }) },
        { name: 'displayLanguage', valueCode: language },
        { name: 'includeDesignations', valueBoolean: true },
      ],
    });
    const en = (await t.api.post('ValueSet/$expand', body('en'))).body.expansion.contains;
    expect(en.map((c: { display: string }) => c.display)).toEqual(['Carer', 'Physician', 'Aidant familial']);
    expect(en[0].designation).toEqual([{ language: 'en', value: 'Carer' }]);
    const fr = (await t.api.post('ValueSet/$expand', body('fr'))).body.expansion.contains;
    expect(fr.map((c: { display: string }) => c.display)).toEqual(['Soignant', 'Médecin', 'Aidant familial']);
  });

  it('$validate-code against a value set: code, coding or codeableConcept; displays and inactive codes noted', async () => {
    const check = async (query: string) => (await t.api.get(`ValueSet/$validate-code?url=${q(J106)}&${query}`)).body;
    const medecin = await check(`system=${q(G15)}&code=10`);
    expect(param(medecin, 'result')?.valueBoolean).toBe(true);
    expect(param(medecin, 'display')?.valueString).toBe('Médecin');
    const wrongDisplay = await check(`system=${q(G15)}&code=10&display=Docteur`);
    expect(param(wrongDisplay, 'result')?.valueBoolean).toBe(true);
    expect(param(wrongDisplay, 'message')?.valueString).toContain("is 'Médecin', not 'Docteur'");
    // 35 (aide-soignant) is a profession of G15, but not of J106.
    expect(param(await check(`system=${q(G15)}&code=35`), 'result')?.valueBoolean).toBe(false);
    expect(param(await check('code=71'), 'result')?.valueBoolean).toBe(true);

    const posted = await t.api.post('ValueSet/JDV-J106-EnsembleProfession-RASS/$validate-code', {
      resourceType: 'Parameters',
      parameter: [
        {
          name: 'codeableConcept',
          valueCodeableConcept: {
            coding: [
              { system: 'http://other', code: 'x' },
              { system: G15, code: '60' },
            ],
          },
        },
      ],
    });
    expect(param(posted.body, 'result')?.valueBoolean).toBe(true);
    // A version not held: the one held stands in, and the answer says so.
    const pinned = (await t.api.get(`ValueSet/$validate-code?url=${q(`${J106}|20200101120000`)}&system=${q(G15)}&code=10`)).body;
    expect(param(pinned, 'result')?.valueBoolean).toBe(true);
    expect(param(pinned, 'message')?.valueString).toBe(`${J106}|20200101120000 is not held: version 20260330120000 was used`);
    const unknown = await t.api.get(`ValueSet/$validate-code?url=${q('http://nowhere/ValueSet/none')}&code=1`);
    expect(param(unknown.body, 'result')?.valueBoolean).toBe(false);
    expect(param(unknown.body, 'message')?.valueString).toContain('not held');
  });

  it('$validate-code against a code system, at type and instance level; a fragment cannot tell a code is not in it', async () => {
    const sm54 = await t.api.get(`CodeSystem/$validate-code?url=${q(R38)}&code=SM54`);
    expect(param(sm54.body, 'result')?.valueBoolean).toBe(true);
    const deprecated = await t.api.get('CodeSystem/TRE-R38-SpecialiteOrdinale/$validate-code?code=SP01');
    expect(param(deprecated.body, 'result')?.valueBoolean).toBe(true);
    expect(param(deprecated.body, 'message')?.valueString).toContain('inactive');
    const none = await t.api.post('CodeSystem/$validate-code', {
      resourceType: 'Parameters',
      parameter: [{ name: 'coding', valueCoding: { system: R38, code: 'ZZ99' } }],
    });
    expect(param(none.body, 'result')?.valueBoolean).toBe(false);
    expect(param(none.body, 'message')?.valueString).toBe(`Code ZZ99 is not in ${R38}`);
    const fragment = await t.api.get(`CodeSystem/$validate-code?url=${q(R66)}&code=620`);
    expect(param(fragment.body, 'result')?.valueBoolean).toBe(false);
    expect(param(fragment.body, 'message')?.valueString).toContain('part of');
  });

  it('$lookup: display, designations and properties (status, parent, child), or those asked', async () => {
    const sp01 = (await t.api.get(`CodeSystem/$lookup?system=${q(R38)}&code=SP01`)).body;
    expect(param(sp01, 'display')?.valueString).toBe('Radio-pharmacie');
    expect(param(sp01, 'version')?.valueString).toBe('20240531120000');
    const property = (p: typeof sp01, code: string) =>
      p.parameter
        .filter((x: { name: string; part?: { valueCode?: string }[] }) => x.name === 'property' && x.part?.[0].valueCode === code)
        .map((x: { part: Record<string, unknown>[] }) => x.part[1]);
    expect(property(sp01, 'status')).toEqual([{ name: 'value', valueCode: 'deprecated' }]);
    expect(property(sp01, 'inactive')).toEqual([{ name: 'value', valueBoolean: true }]);

    const medecin = (await t.api.post('CodeSystem/test-roles/$lookup', { resourceType: 'Parameters', parameter: [{ name: 'code', valueCode: 'medecin' }] }))
      .body;
    expect(property(medecin, 'parent')).toEqual([{ name: 'value', valueCode: 'soignant' }]);
    expect(
      property(medecin, 'child')
        .map((v: { valueCode: string }) => v.valueCode)
        .sort(),
    ).toEqual(['cardiologue', 'generaliste']);
    const only = (await t.api.get(`CodeSystem/$lookup?system=${q(ROLES)}&code=medecin&property=secteur`)).body;
    expect(only.parameter.filter((x: { name: string }) => x.name === 'property')).toHaveLength(1);

    expect((await t.api.get(`CodeSystem/$lookup?system=${q(R38)}&code=NOPE`)).status).toBe(404);
    expect((await t.api.get(`CodeSystem/$lookup?system=${q('http://nowhere')}&code=1`)).status).toBe(404);
  });

  it('$subsumes: codes A and B, or codings, in the hierarchy', async () => {
    const outcome = async (a: string, b: string) =>
      param((await t.api.get(`CodeSystem/$subsumes?system=${q(ROLES)}&codeA=${a}&codeB=${b}`)).body, 'outcome')?.valueCode;
    expect(await outcome('medecin', 'generaliste')).toBe('subsumes');
    expect(await outcome('cardiologue', 'soignant')).toBe('subsumed-by');
    expect(await outcome('infirmier', 'medecin')).toBe('not-subsumed');
    expect(await outcome('aidant', 'aidant')).toBe('equivalent');
    const posted = await t.api.post('CodeSystem/test-roles/$subsumes', {
      resourceType: 'Parameters',
      parameter: [
        { name: 'codingA', valueCoding: { system: ROLES, code: 'soignant' } },
        { name: 'codingB', valueCoding: { system: ROLES, code: 'cardiologue' } },
      ],
    });
    expect(param(posted.body, 'outcome')?.valueCode).toBe('subsumes');
  });

  it('answers errors with OperationOutcomes: 400, 404, 405, 410', async () => {
    const cases: [string, number][] = [
      ['ValueSet/$expand', 400],
      ['ValueSet/$expand?url=http://nowhere/vs', 404],
      [`ValueSet/$expand?url=${q(J106)}&count=-1`, 400],
      ['Patient/$expand', 404],
      ['ValueSet/no-such-set/$expand', 404],
      ['CodeSystem/$lookup?code=SM54', 400],
      ['CodeSystem/$subsumes?system=x&codeA=1', 400],
      ['ValueSet/$validate-code?url=x', 400],
    ];
    for (const [path, status] of cases) {
      const res = await t.api.get(path);
      expect([path, res.status, res.body.resourceType]).toEqual([path, status, 'OperationOutcome']);
    }
    expect((await t.api.post('ValueSet/$expand', { resourceType: 'Patient' })).status).toBe(400);
    expect((await t.api.put('ValueSet/test-gone', valueSet({ include: [{ system: ROLES }] }, 'test-gone'))).status).toBe(201);
    await t.api.delete('ValueSet/test-gone');
    expect((await t.api.get('ValueSet/test-gone/$expand')).status).toBe(410);
  });

  it('expands a value set anew as soon as it changes', async () => {
    const url = 'http://maillage.test/ValueSet/changing';
    const put = (codes: string[]) =>
      t.api.put('ValueSet/test-changing', { ...valueSet({ include: [{ system: ROLES, concept: codes.map((code) => ({ code })) }] }, 'test-changing'), url });
    await put(['aidant']);
    expect(codes((await t.api.get(`ValueSet/$expand?url=${q(url)}`)).body)).toEqual(['aidant']);
    await put(['aidant', 'infirmier']);
    expect(codes((await t.api.get(`ValueSet/$expand?url=${q(url)}`)).body)).toEqual(['aidant', 'infirmier']);
    await t.api.delete('ValueSet/test-changing');
    expect((await t.api.get(`ValueSet/$expand?url=${q(url)}`)).status).toBe(404);
  });
});
