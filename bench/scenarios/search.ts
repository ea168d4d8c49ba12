import type pg from 'pg';
import type { Scenario } from '../harness/scenario.js';
import { pick } from '../harness/scenario.js';

/** Values to draw requests from: a random sample of the data set, so that caches see a realistic spread. */
const SAMPLE = 2000;

async function column(db: pg.Pool, sql: string): Promise<string[]> {
  const { rows } = await db.query<{ v: string }>(`SELECT v FROM (${sql}) s WHERE v IS NOT NULL ORDER BY random() LIMIT ${SAMPLE}`);
  if (!rows.length) throw new Error(`search: the data set has nothing for ${sql}`);
  return rows.map((r) => r.v);
}

const token = (type: string, param: string) => `SELECT DISTINCT system || '|' || code AS v FROM sp_token WHERE type = '${type}' AND param = '${param}'`;
const referenced = (type: string, param: string, target: string) =>
  `SELECT DISTINCT target_type || '/' || target_id AS v FROM sp_reference WHERE type = '${type}' AND param = '${param}' AND target_type = '${target}'`;
const q = encodeURIComponent;
const yearAgo = () => new Date(Date.now() - 365 * 864e5).toISOString().slice(0, 10);

/** One search of the search issue's set: a GET whose parameters are drawn per request from `values`. */
function search(name: string, title: string, values: (db: pg.Pool) => Promise<string[]>, path: (value: string) => string): Scenario {
  return {
    name: `search-${name}`,
    title: `search: ${title}`,
    ceiling: false,
    async prepare({ db }) {
      const drawn = await values(db);
      return [{ method: 'GET', setupRequest: (req) => ({ ...req, path: `/fhir/${path(pick(drawn))}` }) }];
    },
  };
}

/**
 * The searches practice software and coordinators run most (DOMAIN.md §3), each measured on its
 * own so that each gets its p50/p95: by INS, by name, the directory by specialty, a patient's
 * active care plans with their cercle de soins, a patient's recent encounters, who is in the
 * cercles de soins of a professional found by RPPS (a two-step chain), and a professional's
 * patients (`_has`).
 */
const searches: Scenario[] = [
  search(
    'identifier',
    'Patient?identifier=[INS system]|[NIR]',
    (db) => column(db, token('Patient', 'identifier')),
    (v) => `Patient?identifier=${q(v)}`,
  ),
  search(
    'name',
    'Patient?name=[family name]',
    (db) => column(db, `SELECT DISTINCT content::jsonb #>> '{name,0,family}' AS v FROM resource WHERE type = 'Patient' AND NOT deleted`),
    (v) => `Patient?name=${q(v)}`,
  ),
  search(
    'specialty',
    'PractitionerRole?specialty=[code]&_include=PractitionerRole:organization',
    (db) => column(db, token('PractitionerRole', 'specialty')),
    (v) => `PractitionerRole?specialty=${q(v)}&_include=PractitionerRole:organization`,
  ),
  search(
    'careplan',
    'CarePlan?subject=[patient]&status=active&_include=CarePlan:care-team',
    (db) => column(db, referenced('CarePlan', 'subject', 'Patient')),
    (v) => `CarePlan?subject=${q(v)}&status=active&_include=CarePlan:care-team`,
  ),
  search(
    'encounter',
    'Encounter?patient=[patient]&date=ge[a year ago]&_sort=-date',
    (db) => column(db, referenced('Encounter', 'subject', 'Patient')),
    (v) => `Encounter?patient=${q(v)}&date=ge${yearAgo()}&_sort=-date`,
  ),
  search(
    'chain',
    'CareTeam?participant:PractitionerRole.practitioner:Practitioner.identifier=[RPPS or IDNPS]',
    (db) => column(db, token('Practitioner', 'identifier')),
    (v) => `CareTeam?participant:PractitionerRole.practitioner:Practitioner.identifier=${q(v)}`,
  ),
  search(
    'has',
    'Patient?_has:CareTeam:patient:participant=[PractitionerRole]&_elements=id',
    (db) => column(db, referenced('CareTeam', 'participant', 'PractitionerRole')),
    (v) => `Patient?_has:CareTeam:patient:participant=${q(v)}&_elements=id`,
  ),
];

export default searches;
