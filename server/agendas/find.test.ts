import type { Resource, Slot } from '@medplum/fhirtypes';
import { beforeAll, describe, expect, it } from 'vitest';
import { DATABASES, useServer } from '../../tests/harness.js';
import { practitioner, slot } from './fixtures.js';

const R38 = 'https://mos.esante.gouv.fr/NOS/TRE_R38-SpecialiteOrdinale/FHIR/TRE-R38-SpecialiteOrdinale';
const ACT = 'http://terminology.hl7.org/CodeSystem/v3-ActCode';

/** A cabinet: its Location (commune, postal code) is among its Schedule's actors, as R4 and GAP allow. */
const cabinet = (id: string, city: string, postalCode: string) => ({ resourceType: 'Location', id, name: `Cabinet ${city}`, address: { city, postalCode } });

const offered = (id: string, scheduleId: string, fromNow: number, specialty: string, mode: 'AMB' | 'VR', status: Slot['status'] = 'free'): Slot => ({
  ...slot(id, scheduleId, fromNow),
  status,
  serviceType: [{ coding: [{ system: ACT, code: mode }] }],
  specialty: [{ coding: [{ system: R38, code: specialty }] }],
});

/**
 * The next free slots within 48 hours, by specialty, place and teleconsultation or not, earliest
 * first: one search, the query the "Soins non programmés" view and the README give.
 */
const nextFree = (criteria: string) => {
  const now = new Date();
  const until = new Date(now.getTime() + 48 * 3_600_000);
  return `Slot?status=free&start=ge${now.toISOString()}&start=le${until.toISOString()}&${criteria}&_sort=start&_include=Slot:schedule&_include:iterate=Schedule:actor`;
};

describe.each(DATABASES)('finding a slot on %s', (kind) => {
  const t = useServer(kind);

  beforeAll(async () => {
    const put = async (r: Resource) => expect((await t.api.put(`${r.resourceType}/${r.id}`, r)).status).toBe(201);
    await put(cabinet('loc-lille', 'Lille', '59000') as Resource);
    await put(cabinet('loc-roubaix', 'Roubaix', '59100') as Resource);
    await put(cabinet('loc-paris', 'Paris', '75011') as Resource);
    for (const [dr, loc] of [
      ['gp-lille', 'loc-lille'],
      ['gp-roubaix', 'loc-roubaix'],
      ['gp-paris', 'loc-paris'],
    ]) {
      await put(practitioner(dr, dr.length.toString().padStart(10, '7')) as Resource);
      await put({ resourceType: 'Schedule', id: `agenda-${dr}`, active: true, actor: [{ reference: `Practitioner/${dr}` }, { reference: `Location/${loc}` }] });
    }
    await put(offered('l-1h', 'agenda-gp-lille', 60, 'SM54', 'AMB'));
    await put(offered('l-30h', 'agenda-gp-lille', 30 * 60, 'SM54', 'AMB'));
    await put(offered('l-60h', 'agenda-gp-lille', 60 * 60, 'SM54', 'AMB'));
    await put(offered('l-past', 'agenda-gp-lille', -120, 'SM54', 'AMB'));
    await put(offered('l-busy', 'agenda-gp-lille', 90, 'SM54', 'AMB', 'busy'));
    await put(offered('r-30m', 'agenda-gp-roubaix', 30, 'SM54', 'AMB'));
    await put(offered('r-tele-2h', 'agenda-gp-roubaix', 120, 'SM54', 'VR'));
    await put(offered('r-derm-3h', 'agenda-gp-roubaix', 180, 'SM26', 'AMB'));
    await put(offered('p-10m', 'agenda-gp-paris', 10, 'SM54', 'AMB'));
  });

  const ids = async (query: string) => {
    const res = await t.api.get(query);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    return res.body.entry.filter((e: { search: { mode: string } }) => e.search.mode === 'match').map((e: { resource: Resource }) => e.resource.id);
  };

  it('finds the free slots of a specialty in a département within 48 h, earliest first, not past nor busy nor later', async () => {
    expect(await ids(nextFree(`specialty=${R38}|SM54&schedule.actor:Location.address-postalcode=59`))).toEqual(['r-30m', 'l-1h', 'r-tele-2h', 'l-30h']);
  });

  it('narrows to a commune, and to consultations in the cabinet or by teleconsultation', async () => {
    expect(await ids(nextFree(`specialty=SM54&schedule.actor:Location.address-city=Roubaix`))).toEqual(['r-30m', 'r-tele-2h']);
    expect(await ids(nextFree(`specialty=SM54&schedule.actor:Location.address-postalcode=59&service-type=${ACT}|VR`))).toEqual(['r-tele-2h']);
    expect(await ids(nextFree(`specialty=SM54&schedule.actor:Location.address-postalcode=59&service-type:not=${ACT}|VR`))).toEqual(['r-30m', 'l-1h', 'l-30h']);
  });

  it('includes each slot’s Schedule, professional and cabinet, for the list to show', async () => {
    const res = await t.api.get(nextFree('schedule.actor:Location.address-city=Paris'));
    const included = res.body.entry
      .filter((e: { search: { mode: string } }) => e.search.mode === 'include')
      .map((e: { resource: Resource }) => `${e.resource.resourceType}/${e.resource.id}`);
    expect(included.sort()).toEqual(['Location/loc-paris', 'Practitioner/gp-paris', 'Schedule/agenda-gp-paris']);
  });
});
