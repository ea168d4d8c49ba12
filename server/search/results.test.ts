import { beforeAll, describe, expect, it } from 'vitest';
import { DATABASES, useServer } from '../../tests/harness.js';
import { all, INS_NIR, RPPS, SPECIALITE } from './fixtures.js';

/** Chaining, _has, includes, sorting and paging, result shaping, system and compartment search. */
describe.each(DATABASES)('search features on %s', (kind) => {
  const t = useServer(kind);
  const q = encodeURIComponent;
  const entries = async (query: string, mode = 'match', headers?: Record<string, string>): Promise<string[]> => {
    const res = await t.api.get(query, headers);
    expect(res.status, `${query}: ${JSON.stringify(res.body)}`).toBe(200);
    return res.body.entry.filter((e: any) => e.search.mode === mode).map((e: any) => `${e.resource.resourceType}/${e.resource.id}`);
  };
  const ids = async (query: string) => (await entries(query)).map((r) => r.split('/')[1]).sort();

  beforeAll(async () => {
    for (const r of all) expect((await t.api.put(`${r.resourceType}/${r.id}`, r)).status).toBe(201);
  });

  it("a patient's search with other criteria, the patient named first or last, the same when prepared", async () => {
    // Run often enough for PostgreSQL to plan the prepared text once for any values (its 6th run).
    for (let run = 0; run < 7; run++) {
      expect(await ids('Observation?subject=Patient/helene&date=ge2024-04-01')).toEqual(['bp-helene-2']);
      expect(await ids('Observation?date=lt2024-04-01&subject=Patient/helene&status=final')).toEqual(['bp-helene-1']);
      expect(await ids('Observation?code=85354-9&patient=Patient/jerome')).toEqual([]);
      expect(await ids('Observation?code=29463-7,85354-9&patient=Patient/helene,Patient/jerome&date=ge2024-03-16')).toEqual(['bp-helene-2', 'poids-jerome']);
    }
  });

  it('chains references, several levels deep, with and without a :[type]', async () => {
    expect(await ids(`CarePlan?subject:Patient.identifier=${q(`${INS_NIR}|250067512345608`)}`)).toEqual(['ppcs-helene']);
    expect(await ids('CarePlan?subject.name=martin')).toEqual(['ppcs-jerome']);
    expect(await ids('PractitionerRole?practitioner.name=emilie')).toEqual(['emilie-msp']);
    expect(await ids(`PractitionerRole?practitioner.identifier=${q(`${RPPS}|10101010108`)}`)).toEqual(['francois-msp']);
    // CarePlan -> Patient -> Practitioner
    expect(await ids('CarePlan?subject:Patient.general-practitioner.name=rousseau')).toEqual(['ppcs-helene']);
    expect(await ids('Observation?subject:Patient.general-practitioner:Practitioner.family=nguyen')).toEqual(['poids-jerome']);
    expect(await ids('Observation?subject.name=nobody')).toEqual([]);
    const strict = await t.api.get('CarePlan?subject:Patient.nope=x', { prefer: 'handling=strict' });
    expect(strict.status).toBe(400);
  });

  it('reverse chains with _has, nested', async () => {
    expect(await ids(`Patient?_has:Observation:subject:code=${q('http://loinc.org|29463-7')}`)).toEqual(['jerome']);
    expect(await ids('Patient?_has:CarePlan:subject:status=active')).toEqual(['helene']);
    expect(await ids('Practitioner?_has:PractitionerRole:practitioner:specialty=SM26')).toEqual(['francois']);
    // practitioners who are the GP of a patient who has an active care plan
    expect(await ids('Practitioner?_has:Patient:general-practitioner:_has:CarePlan:subject:status=active')).toEqual(['emilie']);
    // _has inside a chain: care plans whose patient has a weight observation
    expect(await ids('CarePlan?subject:Patient._has:Observation:subject:code=29463-7')).toEqual(['ppcs-jerome']);
  });

  it('a search by _has alone goes in id order, page by page both ways; with _sort, in that order', async () => {
    // Created in the reverse of their ids' order, so that row order and id order differ.
    for (const id of ['site-c', 'site-b', 'site-a', 'site-none']) {
      expect((await t.api.put(`Location/${id}`, { resourceType: 'Location', id, name: id })).status).toBe(201);
      if (id === 'site-none') continue;
      const flag = {
        resourceType: 'Flag',
        id: `flag-${id}`,
        status: 'active',
        code: { text: 'accès PMR' },
        subject: { reference: `Location/${id}` },
        author: { reference: 'Practitioner/emilie' },
      };
      expect((await t.api.put(`Flag/${flag.id}`, flag)).status).toBe(201);
    }
    const query = 'Location?_has:Flag:subject:author=Practitioner/emilie';
    const link = (b: any, rel: string) => b.link.find((l: any) => l.relation === rel)?.url;
    const first = await t.api.get(`${query}&_count=2`);
    expect(decodeURIComponent(link(first.body, 'self'))).toBe(`${t.server.base}/${query}&_count=2`);
    expect(await entries(`${query}&_count=2`)).toEqual(['Location/site-a', 'Location/site-b']);
    expect(link(first.body, 'previous')).toBeUndefined();
    const second = link(first.body, 'next');
    expect(await entries(second)).toEqual(['Location/site-c']);
    expect(link((await t.api.get(second)).body, 'next')).toBeUndefined();
    expect(await entries(link((await t.api.get(second)).body, 'previous'))).toEqual(['Location/site-a', 'Location/site-b']);
    expect((await t.api.get(`${query}&_summary=count`)).body.total).toBe(3);
    expect(await entries(`${query}&_sort=-_id`)).toEqual(['Location/site-c', 'Location/site-b', 'Location/site-a']);
    // A deleted Location drops out, though its Flag still names it.
    expect((await t.api.delete('Location/site-b')).status).toBe(200);
    expect(await entries(query)).toEqual(['Location/site-a', 'Location/site-c']);
  });

  it('_include and _revinclude, :iterate and *, marked search.mode=include', async () => {
    const roles = `PractitionerRole?specialty=${q(`${SPECIALITE}|SM54`)}&_include=PractitionerRole:organization`;
    expect(await entries(roles)).toEqual(['PractitionerRole/emilie-msp']);
    expect(await entries(roles, 'include')).toEqual(['Organization/msp-tilleuls']);
    const plan = 'CarePlan?subject=Patient/helene&status=active&_include=CarePlan:care-team';
    expect(await entries(plan, 'include')).toEqual(['CareTeam/equipe-helene']);
    const iterate = `${plan}&_include:iterate=CareTeam:participant:Practitioner`;
    expect((await entries(iterate, 'include')).sort()).toEqual(['CareTeam/equipe-helene', 'Practitioner/emilie', 'Practitioner/francois']);
    // without :iterate, the CareTeam's participants are not followed
    expect((await entries(`${plan}&_include=CareTeam:participant`, 'include')).sort()).toEqual(['CareTeam/equipe-helene']);
    expect((await entries('PractitionerRole?_id=emilie-msp&_include=*', 'include')).sort()).toEqual(['Organization/msp-tilleuls', 'Practitioner/emilie']);
    expect((await entries('Patient?_id=helene&_revinclude=Observation:subject&_revinclude=CarePlan:subject', 'include')).sort()).toEqual([
      'CarePlan/ppcs-helene',
      'Observation/bp-helene-1',
      'Observation/bp-helene-2',
    ]);
    // `*`: through every reference parameter (of one type, or of all)
    expect((await entries('Patient?_id=helene&_revinclude=Observation:*', 'include')).sort()).toEqual(['Observation/bp-helene-1', 'Observation/bp-helene-2']);
    expect((await entries('Patient?_id=helene&_revinclude=*', 'include')).sort()).toEqual([
      'CarePlan/ppcs-helene',
      'CareTeam/equipe-helene',
      'Observation/bp-helene-1',
      'Observation/bp-helene-2',
      'RiskAssessment/risque-chute',
    ]);
    expect((await entries('Organization?_id=msp-tilleuls&_revinclude=*', 'include')).sort()).toEqual([
      'PractitionerRole/emilie-msp',
      'PractitionerRole/francois-msp',
    ]);
    // an included resource that is also a match appears once, as a match
    const both = await entries('Practitioner?_revinclude=PractitionerRole:practitioner&_include:iterate=PractitionerRole:practitioner', 'include');
    expect(both.sort()).toEqual(['PractitionerRole/emilie-msp', 'PractitionerRole/francois-msp']);
  });

  it('sorts on several keys of every type, ascending and descending', async () => {
    expect(await entries('Patient?_sort=birthdate')).toEqual(['Patient/helene', 'Patient/jerome', 'Patient/zoe']);
    expect(await entries('Patient?_sort=-birthdate')).toEqual(['Patient/zoe', 'Patient/jerome', 'Patient/helene']);
    expect(await entries('Patient?_sort=family')).toEqual(['Patient/helene', 'Patient/zoe', 'Patient/jerome']);
    // gender: zoe has none and sorts last either way; then by -birthdate
    expect(await entries('Patient?_sort=gender,-birthdate')).toEqual(['Patient/helene', 'Patient/jerome', 'Patient/zoe']);
    expect(await entries('Patient?_sort=-gender')).toEqual(['Patient/jerome', 'Patient/helene', 'Patient/zoe']);
    expect(await entries('Patient?_sort=active,_id')).toEqual(['Patient/zoe', 'Patient/helene', 'Patient/jerome']);
    expect(await entries('Observation?_sort=-date')).toEqual(['Observation/bp-helene-2', 'Observation/poids-jerome', 'Observation/bp-helene-1']);
    expect(await entries('Observation?_sort=value-quantity,_id')).toEqual(['Observation/poids-jerome', 'Observation/bp-helene-1', 'Observation/bp-helene-2']);
    expect(await entries('Observation?_sort=-subject,_id')).toEqual(['Observation/poids-jerome', 'Observation/bp-helene-1', 'Observation/bp-helene-2']);
    expect(await entries('Patient?_sort=-_id')).toEqual(['Patient/zoe', 'Patient/jerome', 'Patient/helene']);
  });

  it('pages by keyset with self, next and previous links; no duplicate or gap while data changes', async () => {
    for (let i = 0; i < 7; i++) {
      await t.api.put(`Encounter/sejour-${i}`, {
        resourceType: 'Encounter',
        id: `sejour-${i}`,
        status: 'finished',
        class: { code: 'AMB' },
        subject: { reference: 'Patient/helene' },
        period: { start: `2024-02-0${i + 1}` },
      });
    }
    // Beyond a first page, the total is counted only when asked for.
    expect((await t.api.get('Encounter?patient=helene&date=ge2024-01&_count=3')).body.total).toBeUndefined();
    expect((await t.api.get('Encounter?patient=helene&date=ge2024-01&_count=7')).body.total).toBe(7);
    const first = await t.api.get('Encounter?patient=helene&date=ge2024-01&_sort=-date&_count=3&_total=accurate');
    expect(first.body.total).toBe(7);
    const link = (b: any, rel: string) => b.link.find((l: any) => l.relation === rel)?.url;
    expect(link(first.body, 'self')).toBe(`${t.server.base}/Encounter?patient=helene&date=ge2024-01&_sort=-date&_count=3&_total=accurate`);
    expect(link(first.body, 'previous')).toBeUndefined();
    const seen = first.body.entry.map((e: any) => e.resource.id);
    expect(seen).toEqual(['sejour-6', 'sejour-5', 'sejour-4']);
    // meanwhile: one already seen moves to the end, a new one arrives in the unseen part, one unseen is deleted
    await t.api.put('Encounter/sejour-6', {
      resourceType: 'Encounter',
      id: 'sejour-6',
      status: 'finished',
      class: { code: 'AMB' },
      subject: { reference: 'Patient/helene' },
      period: { start: '2024-02-01T12:00:00Z' },
    });
    await t.api.put('Encounter/sejour-new', {
      resourceType: 'Encounter',
      id: 'sejour-new',
      status: 'finished',
      class: { code: 'AMB' },
      subject: { reference: 'Patient/helene' },
      period: { start: '2024-02-03T12:00:00Z' },
    });
    await t.api.delete('Encounter/sejour-2');
    const second = await t.api.get(link(first.body, 'next'));
    expect(second.body.entry.map((e: any) => e.resource.id)).toEqual(['sejour-3', 'sejour-new', 'sejour-1']);
    const third = await t.api.get(link(second.body, 'next'));
    expect(third.body.entry.map((e: any) => e.resource.id)).toEqual(['sejour-6', 'sejour-0']);
    expect(link(third.body, 'next')).toBeUndefined();
    // previous goes back one page
    const back = await t.api.get(link(third.body, 'previous'));
    expect(back.body.entry.map((e: any) => e.resource.id)).toEqual(['sejour-3', 'sejour-new', 'sejour-1']);
    const start = await t.api.get(link(back.body, 'previous'));
    expect(start.body.entry.map((e: any) => e.resource.id)).toEqual(['sejour-5', 'sejour-4']);
    expect(link(start.body, 'previous')).toBeUndefined();
    // default order (row id) pages the same way
    const byId = await t.api.get('Encounter?_count=4');
    const rest = await t.api.get(link(byId.body, 'next'));
    expect([...byId.body.entry, ...rest.body.entry].map((e: any) => e.resource.id).sort()).toEqual(
      ['sejour-0', 'sejour-1', 'sejour-3', 'sejour-4', 'sejour-5', 'sejour-6', 'sejour-new'].sort(),
    );
  });

  it('_total none, estimate and accurate; _count=0 and _summary=count give only the total', async () => {
    expect((await t.api.get('Patient?_total=none&_count=1')).body.total).toBeUndefined();
    expect((await t.api.get('Patient?_total=accurate&_count=1')).body.total).toBe(3);
    expect(typeof (await t.api.get('Patient?_total=estimate&_count=1')).body.total).toBe('number');
    const count = await t.api.get('Patient?_summary=count');
    expect(count.body.total).toBe(3);
    expect(count.body.entry).toEqual([]);
    expect((await t.api.get('Patient?_count=0')).body.total).toBe(3);
  });

  it('matches chosen from the index alone: each once, live ones only, of the type searched', async () => {
    // Family and given both match: two index rows, one match. A Practitioner of that name, and a
    // deleted Patient, have (or had) the same index values.
    const lemaire = { name: [{ family: 'Lemaire', given: ['Lemaire'] }], gender: 'female' };
    expect((await t.api.put('Patient/lemaire-1', { resourceType: 'Patient', id: 'lemaire-1', ...lemaire })).status).toBe(201);
    expect((await t.api.put('Patient/lemaire-2', { resourceType: 'Patient', id: 'lemaire-2', ...lemaire, gender: 'male' })).status).toBe(201);
    expect((await t.api.put('Patient/lemaire-3', { resourceType: 'Patient', id: 'lemaire-3', ...lemaire })).status).toBe(201);
    expect((await t.api.put('Practitioner/lemaire', { resourceType: 'Practitioner', id: 'lemaire', ...lemaire })).status).toBe(201);
    expect((await t.api.delete('Patient/lemaire-3')).status).toBeLessThan(300);
    try {
      expect(await ids('Patient?name=lemaire')).toEqual(['lemaire-1', 'lemaire-2']);
      expect(await ids('Patient?name=lemaire&gender=female')).toEqual(['lemaire-1']);
      expect((await t.api.get('Patient?name=lemaire&_sort=-gender')).body.entry.map((e: any) => e.resource.id)).toEqual(['lemaire-2', 'lemaire-1']);
      expect((await t.api.get('Patient?name=lemaire&_summary=count')).body.total).toBe(2);
      const first = await t.api.get('Patient?name=lemaire&_count=1&_total=accurate');
      expect(first.body.total).toBe(2);
      const next = first.body.link.find((l: any) => l.relation === 'next').url as string;
      expect((await t.api.get(next)).body.entry.map((e: any) => e.resource.id)).toEqual(['lemaire-2']);
    } finally {
      for (const path of ['Patient/lemaire-1', 'Patient/lemaire-2', 'Practitioner/lemaire']) await t.api.delete(path);
    }
  });
  it('_summary and _elements: reduced resources tagged SUBSETTED', async () => {
    const subsetted = (r: any) => r.meta.tag.some((t: any) => t.code === 'SUBSETTED');
    const [summary] = (await t.api.get('Patient?_id=helene&_summary=true')).body.entry;
    expect(summary.resource.name[0].family).toBe('Dupont-Lefèvre');
    expect(summary.resource.text).toBeUndefined();
    expect(summary.resource.generalPractitioner).toBeUndefined();
    expect(subsetted(summary.resource)).toBe(true);
    const [text] = (await t.api.get('Patient?_id=helene&_summary=text')).body.entry;
    expect(Object.keys(text.resource).sort()).toEqual(['id', 'meta', 'resourceType', 'text']);
    const [data] = (await t.api.get('Patient?_id=helene&_summary=data')).body.entry;
    expect(data.resource.text).toBeUndefined();
    expect(data.resource.generalPractitioner).toBeDefined();
    const [elements] = (await t.api.get('Observation?_id=poids-jerome&_elements=subject,valueQuantity')).body.entry;
    expect(Object.keys(elements.resource).sort()).toEqual(['code', 'id', 'meta', 'resourceType', 'status', 'subject', 'valueQuantity']);
    expect(subsetted(elements.resource)).toBe(true);
    const [full] = (await t.api.get('Patient?_id=helene&_summary=false')).body.entry;
    expect(full.resource.meta.tag.some((t: any) => t.code === 'SUBSETTED')).toBe(false);
  });

  it('POST [type]/_search with a form body, and system search with _type', async () => {
    const res = await t.api.call('POST', 'Patient/_search', 'family=martin', { 'content-type': 'application/x-www-form-urlencoded' });
    expect(res.status).toBe(200);
    expect(res.body.entry.map((e: any) => e.resource.id)).toEqual(['jerome']);
    expect((await entries('?_type=Patient,Practitioner&name=emilie,helene')).sort()).toEqual(['Patient/helene', 'Practitioner/emilie']);
    expect(await entries('?_id=msp-tilleuls')).toEqual(['Organization/msp-tilleuls']);
    expect((await entries(`?_type=Patient,Practitioner&identifier=${q(`${RPPS}|`)}`)).sort()).toEqual(['Practitioner/emilie', 'Practitioner/francois']);
    // a parameter that is not common to every type searched
    expect((await t.api.get('?_type=Patient,Organization&birthdate=1950', { prefer: 'handling=strict' })).status).toBe(400);
  });

  it('compartment search: Patient/[id]/[type]', async () => {
    expect(await entries('Patient/helene/CarePlan')).toEqual(['CarePlan/ppcs-helene']);
    expect((await entries('Patient/helene/Observation?_sort=date')).length).toBe(2);
    expect(await entries('Patient/helene/Observation?code=29463-7')).toEqual([]);
    expect(await entries('Patient/jerome/Observation?code=29463-7')).toEqual(['Observation/poids-jerome']);
    expect(await entries('Patient/zoe/CarePlan')).toEqual([]);
    const notInCompartment = await t.api.get('Patient/helene/Organization');
    expect(notInCompartment.status).toBe(400);
    expect((await t.api.get('Patient/helene/Nope')).status).toBe(404);
  });
});
