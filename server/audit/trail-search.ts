import { parseLocalReference } from '../fhir/ids.js';
import { RECURRING, type Queryable } from '../store/db.js';
import type { StoredVersion } from '../store/resources.js';
import type { SearchResult } from '../search/execute.js';
import { keyset, pageTotal, type PagedRow } from '../search/paging.js';
import type { CompartmentTarget, Filter, Include, SearchRequest, SearchSupport } from '../search/parse.js';
import { dateCondition } from '../search/kinds/date.js';
import { SqlParams } from '../search/sql-params.js';
import { namedPatient, storedColumns, visible } from '../search/sql.js';
import { splitBar } from '../search/values.js';
import { trailAccessSql, type AccessCheck, type Visibility } from '../access/visibility.js';
import { CLIENT_SYSTEM } from './event.js';
import { isTrailId, TRAIL_TYPE, trailColumns, trailVersion, type TrailRow } from './trail.js';

/**
 * The audit trail's own search (migration 016 stores it apart from resources): its parameters are
 * columns of `audit_trail t`. An AuditEvent is visible when every patient it names is (the
 * équipe-de-soins rules of its patient compartment); one naming none, to its agents.
 */

type ParamFilter = Extract<Filter, { kind: 'param' }>;

/** How a token column's values are written: `system|code`, or a code under a known system. */
const tokenIn = (values: string, f: ParamFilter, p: SqlParams) => {
  const match = f.values.map((value) => {
    const [system, code] = splitBar(value);
    if (system === undefined) return `substr(k.v, strpos(k.v, '|') + 1) = ${p.add(code)}`;
    if (code === '') return `split_part(k.v, '|', 1) = ${p.add(system)}`;
    return `k.v = ${p.add(`${system}|${code}`)}`;
  });
  const sql = `EXISTS (SELECT 1 FROM unnest(${values}) AS k(v) WHERE ${match.join(' OR ')})`;
  return f.modifier === 'not' ? `NOT ${sql}` : sql;
};

/** The local references among a filter's values (a bare id is one of `type`), as `Type/id`. */
function references(f: ParamFilter, fhirBase: string, type?: string): string[] {
  return f.values.flatMap((value) => {
    const ref = parseLocalReference(type && !value.includes('/') ? `${type}/${value}` : value, fhirBase);
    return ref && (!type || ref.type === type) ? [`${ref.type}/${ref.id}`] : [];
  });
}

const patientIds = (f: ParamFilter, fhirBase: string) => references(f, fhirBase, 'Patient').map((r) => r.slice('Patient/'.length));

/** The parameters the trail is searched on, with their modifiers, as SQL over `audit_trail t`. */
const PARAMS: Record<string, { modifiers: string[]; sql: (f: ParamFilter, p: SqlParams, fhirBase: string) => string }> = {
  _id: { modifiers: [], sql: (f, p) => `t.id = ANY(${p.add(f.values.filter(isTrailId))}::uuid[])` },
  _lastUpdated: { modifiers: [], sql: (f, p) => `(${f.values.map((v) => dateCondition(v, 't.recorded', 't.recorded', p)).join(' OR ')})` },
  date: { modifiers: [], sql: (f, p) => `(${f.values.map((v) => dateCondition(v, 't.recorded', 't.recorded', p)).join(' OR ')})` },
  patient: { modifiers: [], sql: (f, p, base) => `t.patients && ${p.add(patientIds(f, base))}::text[]` },
  agent: {
    modifiers: ['identifier'],
    sql: (f, p, base) => {
      if (f.modifier !== 'identifier') return `t.agents && ${p.add(references(f, base))}::text[]`;
      // Only the client, a Device named by identifier, has one.
      const clients = f.values.map(splitBar).filter(([system]) => system === undefined || system === CLIENT_SYSTEM);
      return `t.client = ANY(${p.add(clients.map(([, value]) => value))}::text[])`;
    },
  },
  entity: {
    modifiers: [],
    sql: (f, p, base) => `(t.patients && ${p.add(patientIds(f, base))}::text[] OR t.entities && ${p.add(references(f, base))}::text[])`,
  },
  type: { modifiers: ['not'], sql: (f, p) => tokenIn('ARRAY[t.type]', f, p) },
  subtype: { modifiers: ['not'], sql: (f, p) => tokenIn('t.subtype', f, p) },
  action: { modifiers: ['not'], sql: (f, p) => tokenIn(`ARRAY['http://hl7.org/fhir/audit-event-action|' || t.action]`, f, p) },
  outcome: { modifiers: ['not'], sql: (f, p) => tokenIn(`ARRAY['http://hl7.org/fhir/audit-event-outcome|' || t.outcome]`, f, p) },
};

/** The parameters of the trail's search, as /metadata lists them. */
export const TRAIL_PARAMS = new Set(Object.keys(PARAMS));

/** The reference parameters an _include follows from an event. */
export const INCLUDED = ['agent', 'patient', 'entity'];

/** What the trail cannot search on that the engine parses. */
export const TRAIL_SUPPORT: SearchSupport = {
  filter(f) {
    if (f.kind === 'compartment') return f.target.type === 'Patient' ? undefined : `${TRAIL_TYPE} is searched in the Patient compartment only`;
    if (f.kind !== 'param') return 'the audit trail has no chained or _has search';
    const param = PARAMS[f.param.code];
    if (!param) return `the audit trail is searched on ${[...TRAIL_PARAMS].join(', ')}`;
    if (f.modifier !== undefined && !param.modifiers.includes(f.modifier))
      return `modifier :${f.modifier} is not supported on the audit trail's ${f.param.code}`;
    return undefined;
  },
  include(i) {
    if (i.reverse || i.iterate) return 'the audit trail takes _include only, without :iterate';
    if ((i.type ?? TRAIL_TYPE) !== TRAIL_TYPE || (i.param !== undefined && !INCLUDED.includes(i.param))) {
      return `the audit trail includes ${INCLUDED.map((param) => `${TRAIL_TYPE}:${param}`).join(', ')} or *`;
    }
    return undefined;
  },
  // In time order only.
  sort: (code) => (code === 'date' || code === '_lastUpdated' ? undefined : 'the audit trail is sorted by date only'),
};

/** The condition over `audit_trail t` that the rules let `visibility` see the row. */
export function visibleRow(v: Visibility | null, p: SqlParams, check: AccessCheck, patient?: string): string {
  return v ? trailAccessSql(v, { patients: 't.patients', agents: 't.agents' }, p, check, patient) : 'true';
}

/** The events naming the patient; for a token confined to them, those naming them alone. */
function inCompartment(target: CompartmentTarget, p: SqlParams): string {
  const patient = `ARRAY[${p.add(target.id)}::text]`;
  return target.alone ? `(t.patients @> ${patient} AND t.patients <@ ${patient})` : `t.patients @> ${patient}`;
}

const MAX_INCLUDED = 1000;

/** A search of the trail, in time order (then id: the keys of its index), paged by keyset like every search. */
export async function searchTrail(q: Queryable, req: SearchRequest, fhirBase: string, visibility: Visibility | null): Promise<SearchResult> {
  const p = new SqlParams();
  const patient = namedPatient(req.types, req.filters, fhirBase);
  const where = req.filters.map((f) => (f.kind === 'compartment' ? inCompartment(f.target, p) : PARAMS[f.param.code].sql(f as ParamFilter, p, fhirBase)));
  where.push(visibleRow(visibility, p, patient !== undefined ? 'probe' : 'set', patient));
  const filter = where.join(' AND ');
  // Counted with the filter's values only: the page's position adds its own.
  const values = [...p.values];
  const count = async () => (await q.query<{ n: number }>(`SELECT count(*)::int AS n FROM audit_trail t WHERE ${filter}`, values, RECURRING))[0].n;
  if (req.count === 0) return { matches: [], included: [], total: await count() };

  const desc = req.sort[0]?.desc ?? false;
  const paging = keyset(
    req.cursor,
    [
      { desc, notNull: true },
      { desc, notNull: true },
    ],
    false,
  );
  const seek = paging.seek(['timestamptz', 'uuid'], (v) => p.add(v));
  const rows = await q.query<TrailRow & PagedRow>(
    `SELECT * FROM (SELECT ${trailColumns('t')}, t.recorded AS s0, t.id AS s1 FROM audit_trail t WHERE ${filter}) m${seek ? ` WHERE ${seek}` : ''}
      ORDER BY ${paging.order('')} LIMIT ${req.count + 1}`,
    p.values,
    RECURRING,
  );
  const page = paging.page(rows, req.count);
  return {
    matches: page.rows.map(trailVersion),
    included: await included(q, req.include, page.rows, visibility),
    next: page.next,
    previous: page.previous,
    total: await pageTotal(req.total, page, count),
  };
}

/** The resources a page's AuditEvents name, as its `_include`s ask, that the caller may see. */
async function included(q: Queryable, specs: Include[], page: TrailRow[], visibility: Visibility | null): Promise<StoredVersion[]> {
  const refs = new Set<string>();
  for (const spec of specs) {
    for (const row of page) {
      const named = [
        ...(spec.param === undefined || spec.param === 'agent' ? row.agents : []),
        ...(spec.param === undefined || spec.param === 'patient' || spec.param === 'entity' ? row.patients.map((id) => `Patient/${id}`) : []),
        ...(spec.param === undefined || spec.param === 'entity' ? row.entities : []),
      ];
      for (const ref of named) if (!spec.target || ref.startsWith(`${spec.target}/`)) refs.add(ref);
    }
  }
  if (!refs.size) return [];
  const keys = [...refs].map((ref) => ref.split('/'));
  const p = new SqlParams();
  return q.query<StoredVersion>(
    `SELECT ${storedColumns('r')} FROM resource r WHERE (r.type, r.id) IN (SELECT * FROM unnest(${p.add(keys.map((k) => k[0]))}::text[], ${p.add(
      keys.map((k) => k[1]),
    )}::text[])) AND ${visible('r', [], p, visibility)} LIMIT ${MAX_INCLUDED}`,
    p.values,
    RECURRING,
  );
}
