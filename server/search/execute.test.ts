import type { Resource } from '@medplum/fhirtypes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DATABASES, openTestDatabase } from '../../tests/harness.js';
import { persist } from '../interactions/write.js';
import type { Database } from '../store/db.js';
import { readCurrent } from '../store/resources.js';
import { executeSearch } from './execute.js';
import { STORAGES } from '../stores/by-type.js';
import { parseSearch } from './parse.js';

const BASE = 'http://maillage.test/fhir';
const LOINC = 'http://loinc.org';
const UCUM = 'http://unitsofmeasure.org';

const bloodPressure = (id: string, patient: string, systolic: number, date: string): Resource => ({
  resourceType: 'Observation',
  id,
  status: 'final',
  code: { coding: [{ system: LOINC, code: '85354-9' }] },
  subject: { reference: `Patient/${patient}` },
  effectiveDateTime: date,
  component: [{ code: { coding: [{ system: LOINC, code: '8480-6' }] }, valueQuantity: { value: systolic, unit: 'mm[Hg]', system: UCUM, code: 'mm[Hg]' } }],
});

/** A few resources of several kinds of index rows, written through the write path (index included). */
const RESOURCES: Resource[] = [
  {
    resourceType: 'Practitioner',
    id: 'dr-morvan',
    name: [{ family: 'Morvan', given: ['Claire'] }],
    identifier: [{ system: 'https://rpps.esante.gouv.fr', value: '10003461033' }],
  },
  {
    resourceType: 'Patient',
    id: 'helene',
    name: [{ family: 'Dupont-Lefèvre', given: ['Hélène'] }],
    gender: 'female',
    birthDate: '1950-06-01',
    generalPractitioner: [{ reference: 'Practitioner/dr-morvan' }],
  },
  { resourceType: 'Patient', id: 'jerome', name: [{ family: 'Martin', given: ['Jérôme'] }], gender: 'male', birthDate: '1972-03-15' },
  bloodPressure('bp-helene', 'helene', 150, '2024-05-01T09:00:00Z'),
  bloodPressure('bp-jerome', 'jerome', 120, '2024-06-01T09:00:00Z'),
  {
    resourceType: 'Observation',
    id: 'weight-helene',
    status: 'preliminary',
    code: { coding: [{ system: LOINC, code: '29463-7' }], text: 'Poids' },
    subject: { reference: `${BASE}/Patient/helene` },
    effectiveDateTime: '2024-05-20',
    valueQuantity: { value: 70, unit: 'kg', system: UCUM, code: 'kg' },
  },
  {
    resourceType: 'DocumentReference',
    id: 'cr-v2',
    status: 'current',
    content: [{ attachment: { contentType: 'text/plain', url: 'urn:uuid:7d3f0b62-3a5e-4c55-9f7e-6b1a5f0d2c11' } }],
    relatesTo: [
      { code: 'replaces', target: { reference: 'DocumentReference/cr-v1' } },
      { code: 'appends', target: { reference: 'DocumentReference/annexe' } },
    ],
  },
  // Deleted below: no search finds it.
  bloodPressure('bp-gone', 'helene', 190, '2024-07-01T09:00:00Z'),
];

async function write(db: Database): Promise<void> {
  await db.transaction(async (tx) => {
    for (const r of RESOURCES) await persist({ fhirBase: BASE }, tx, undefined, { type: r.resourceType, id: r.id as string }, r, 'PUT');
  });
  await db.transaction(async (tx) => {
    await persist({ fhirBase: BASE }, tx, await readCurrent(tx, 'Observation', 'bp-gone', true), { type: 'Observation', id: 'bp-gone' }, null, 'DELETE');
  });
}

/**
 * The search engine from a query string to its rows: parseSearch, then executeSearch compiling
 * the filters to SQL and running it on a real database. What the HTTP tests check through the
 * API, here without a server, on a few resources whose matches are known.
 */
describe.each(DATABASES)('searches compiled to SQL and run on %s', (kind) => {
  let db: Database;
  let close: () => Promise<void>;
  beforeAll(async () => {
    ({ db, close } = await openTestDatabase(kind, 'migrated'));
    await write(db);
  });
  afterAll(async () => {
    await close?.();
  });

  const search = (type: string, query: string) => executeSearch(db, parseSearch([type], new URLSearchParams(query), true, STORAGES), BASE, null);
  /** The ids of the matches, sorted. */
  const ids = async (type: string, query: string) => (await search(type, query)).matches.map((m) => m.id).sort();

  it('strings: prefix without case or accents, :exact, :contains', async () => {
    expect(await ids('Patient', 'name=hel')).toEqual(['helene']);
    expect(await ids('Patient', 'family=dupont-lefevre')).toEqual(['helene']);
    expect(await ids('Patient', 'family:exact=Dupont-Lefèvre')).toEqual(['helene']);
    expect(await ids('Patient', 'family:exact=dupont-lefevre')).toEqual([]);
    expect(await ids('Patient', 'family:exact=DUPONT-LEFÈVRE')).toEqual([]);
    expect(await ids('Patient', 'family:contains=lef')).toEqual(['helene']);
    expect(await ids('Patient', 'name=jerome,helene')).toEqual(['helene', 'jerome']);
    expect(await ids('Patient', 'name=helene&name=martin')).toEqual([]);
  });

  it('tokens: system|code, code alone, system|, :not; references: Type/id, our absolute URL, bare id, :missing', async () => {
    expect(await ids('Observation', `code=${LOINC}|29463-7`)).toEqual(['weight-helene']);
    expect(await ids('Observation', 'code=85354-9')).toEqual(['bp-helene', 'bp-jerome']);
    expect(await ids('Observation', `code=${LOINC}|`)).toEqual(['bp-helene', 'bp-jerome', 'weight-helene']);
    expect(await ids('Observation', 'code=urn:other|85354-9')).toEqual([]);
    expect(await ids('Observation', 'status:not=final')).toEqual(['weight-helene']);
    expect(await ids('Observation', 'subject=Patient/helene')).toEqual(['bp-helene', 'weight-helene']);
    expect(await ids('Observation', `subject=${BASE}/Patient/jerome`)).toEqual(['bp-jerome']);
    expect(await ids('Observation', 'patient=helene')).toEqual(['bp-helene', 'weight-helene']);
    expect(await ids('Patient', 'general-practitioner:missing=true')).toEqual(['jerome']);
    expect(await ids('Patient', 'general-practitioner:missing=false')).toEqual(['helene']);
    expect(await ids('Observation', '_id=bp-jerome,bp-gone,weight-helene')).toEqual(['bp-jerome', 'weight-helene']);
  });

  it('dates, numbers and quantities with prefixes; composites on one component', async () => {
    expect(await ids('Patient', 'birthdate=1950')).toEqual(['helene']);
    expect(await ids('Patient', 'birthdate=lt1960-01-01')).toEqual(['helene']);
    expect(await ids('Patient', 'birthdate=ge1972-03-15')).toEqual(['jerome']);
    expect(await ids('Observation', 'date=2024-05')).toEqual(['bp-helene', 'weight-helene']);
    expect(await ids('Observation', 'date=gt2024-05-20')).toEqual(['bp-jerome']);
    expect(await ids('Observation', `value-quantity=70|${UCUM}|kg`)).toEqual(['weight-helene']);
    expect(await ids('Observation', 'value-quantity=gt100')).toEqual([]);
    expect(await ids('Observation', 'component-value-quantity=gt130')).toEqual(['bp-helene']);
    expect(await ids('Observation', `component-code-value-quantity=${LOINC}|8480-6$lt130`)).toEqual(['bp-jerome']);
    expect(await ids('Observation', `component-code-value-quantity=${LOINC}|29463-7$lt130`)).toEqual([]);
    // A reference component, matched with the code of its own relatesTo only.
    expect(await ids('DocumentReference', 'relationship=replaces$DocumentReference/cr-v1')).toEqual(['cr-v2']);
    expect(await ids('DocumentReference', 'relationship=appends$DocumentReference/annexe,replaces$cr-v1')).toEqual(['cr-v2']);
    expect(await ids('DocumentReference', 'relationship=replaces$DocumentReference/annexe')).toEqual([]);
  });

  it('chains and _has, one and two steps', async () => {
    expect(await ids('Observation', 'subject:Patient.name=martin')).toEqual(['bp-jerome']);
    expect(await ids('Observation', 'subject:Patient.general-practitioner:Practitioner.family=morvan')).toEqual(['bp-helene', 'weight-helene']);
    expect(await ids('Patient', '_has:Observation:subject:code=29463-7')).toEqual(['helene']);
    expect(await ids('Patient', '_has:Observation:subject:component-value-quantity=lt130')).toEqual(['jerome']);
    expect(await ids('Practitioner', '_has:Patient:general-practitioner:_has:Observation:subject:status=preliminary')).toEqual(['dr-morvan']);
    expect(await ids('Patient', '_has:Observation:subject:status=cancelled')).toEqual([]);
  });

  it('sorts and pages by keyset; includes what matches name, and what names them', async () => {
    const first = await search('Observation', '_sort=-date&_count=2');
    expect(first.matches.map((m) => m.id)).toEqual(['bp-jerome', 'weight-helene']);
    expect(first.next).toBeDefined();
    const second = await search('Observation', `_sort=-date&_count=2&_cursor=${first.next}`);
    expect(second.matches.map((m) => m.id)).toEqual(['bp-helene']);
    expect(second.next).toBeUndefined();
    expect((await search('Patient', '_sort=birthdate')).matches.map((m) => m.id)).toEqual(['helene', 'jerome']);

    const included = await search('Observation', '_id=bp-helene&_include=Observation:subject&_include:iterate=Patient:general-practitioner');
    expect(included.included.map((r) => `${r.type}/${r.id}`).sort()).toEqual(['Patient/helene', 'Practitioner/dr-morvan']);
    const reverse = await search('Patient', '_id=helene&_revinclude=Observation:subject');
    expect(reverse.included.map((r) => r.id).sort()).toEqual(['bp-helene', 'weight-helene']);
    expect((await search('Observation', 'subject=Patient/helene&_total=accurate&_count=1')).total).toBe(2);
  });
});
