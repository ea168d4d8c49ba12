import { CLIENT_SYSTEM } from '../auth/audit-event.js';
import { parseLocalReference } from '../fhir/ids.js';
import { badRequest } from '../fhir/outcome.js';
import { trailColumns, trailVersion, isTrailId, type TrailRow } from '../store/audit-trail.js';
import { RECURRING, type Queryable } from '../store/db.js';
import type { HistoryEntry, StoredVersion } from '../store/resources.js';
import type { SearchResult } from './execute.js';
import { dateCondition } from './kinds/date.js';
import type { CompartmentTarget, Filter, Include, SearchRequest } from './parse.js';
import { SqlParams } from './sql-params.js';
import { namedPatient, storedColumns, visible } from './sql.js';
import { splitBar } from './values.js';
import { trailAccessSql, type AccessCheck, type Visibility } from '../access/visibility.js';

/**
 * The audit trail's own search, read and history (migration 016 stores it apart from resources):
 * its parameters are columns of `audit_trail t`. An AuditEvent is visible when every patient it
 * names is (the équipe-de-soins rules of its patient compartment); one naming none, to its agents.
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
function references(f: ParamFilter, baseUrl: string, type?: string): string[] {
  return f.values.flatMap((value) => {
    const ref = parseLocalReference(type && !value.includes('/') ? `${type}/${value}` : value, baseUrl);
    return ref && (!type || ref.type === type) ? [`${ref.type}/${ref.id}`] : [];
  });
}

const patientIds = (f: ParamFilter, baseUrl: string) => references(f, baseUrl, 'Patient').map((r) => r.slice('Patient/'.length));

/** The parameters the trail is searched on, with their modifiers, as SQL over `audit_trail t`. */
const PARAMS: Record<string, { modifiers: string[]; sql: (f: ParamFilter, p: SqlParams, baseUrl: string) => string }> = {
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

/** Why the trail cannot apply a filter; undefined when it can. */
export function trailUnsupported(f: Filter): string | undefined {
  if (f.kind === 'compartment') return f.target.type === 'Patient' ? undefined : `AuditEvent is searched in the Patient compartment only`;
  if (f.kind !== 'param') return 'the audit trail has no chained or _has search';
  const param = PARAMS[f.param.code];
  if (!param) return `the audit trail is searched on ${[...TRAIL_PARAMS].join(', ')}`;
  if (f.modifier !== undefined && !param.modifiers.includes(f.modifier)) return `modifier :${f.modifier} is not supported on the audit trail's ${f.param.code}`;
  return undefined;
}

/** Why the trail cannot apply an _include; undefined when it can (AuditEvent:agent, :patient, :entity or *). */
export function trailIncludeUnsupported(i: Include): string | undefined {
  if (i.reverse || i.iterate) return 'the audit trail takes _include only, without :iterate';
  if ((i.type ?? 'AuditEvent') !== 'AuditEvent' || (i.param !== undefined && !['agent', 'patient', 'entity'].includes(i.param))) {
    return 'the audit trail includes AuditEvent:agent, AuditEvent:patient, AuditEvent:entity or *';
  }
  return undefined;
}

/** The trail is sorted by time only. */
export const trailSortable = (code: string) => code === 'date' || code === '_lastUpdated';

/** The condition over `audit_trail t` that the rules let `visibility` see the row. */
function visibleRow(v: Visibility | null, p: SqlParams, check: AccessCheck, patient?: string): string {
  return v ? trailAccessSql(v, { patients: 't.patients', agents: 't.agents' }, p, check, patient) : 'true';
}

/** The events naming the patient; for a token confined to them, those naming them alone. */
function inCompartment(target: CompartmentTarget, p: SqlParams): string {
  const patient = `ARRAY[${p.add(target.id)}::text]`;
  return target.alone ? `(t.patients @> ${patient} AND t.patients <@ ${patient})` : `t.patients @> ${patient}`;
}

/** A page position: the time and id of the row it is after (next) or before (previous). */
interface Cursor {
  d: 'next' | 'previous';
  at: string;
  id: string;
}

const MAX_INCLUDED = 1000;

/** A search of the trail, in time order (then id), paged by keyset like every search. */
export async function searchTrail(q: Queryable, req: SearchRequest, baseUrl: string, visibility: Visibility | null): Promise<SearchResult> {
  const p = new SqlParams();
  const patient = namedPatient(req.types, req.filters, baseUrl);
  const where = req.filters.map((f) => (f.kind === 'compartment' ? inCompartment(f.target, p) : PARAMS[f.param.code].sql(f as ParamFilter, p, baseUrl)));
  where.push(visibleRow(visibility, p, patient !== undefined ? 'probe' : 'set', patient));
  const filter = where.join(' AND ');
  // Counted with the filter's values only: the page's position adds its own.
  const values = [...p.values];
  const count = async () => (await q.query<{ n: number }>(`SELECT count(*)::int AS n FROM audit_trail t WHERE ${filter}`, values, RECURRING))[0].n;
  if (req.count === 0) return { matches: [], included: [], total: await count() };

  const cursor = req.cursor !== undefined ? decodeCursor(req.cursor) : undefined;
  const backwards = cursor?.d === 'previous';
  const desc = (req.sort[0]?.desc ?? false) !== backwards;
  const seek = cursor ? ` AND (t.recorded, t.id) ${desc ? '<' : '>'} (${p.add(cursor.at)}::timestamptz, ${p.add(cursor.id)}::uuid)` : '';
  const dir = desc ? 'DESC' : 'ASC';
  const rows = await q.query<TrailRow>(
    `SELECT ${trailColumns('t')} FROM audit_trail t WHERE ${filter}${seek} ORDER BY t.recorded ${dir}, t.id ${dir} LIMIT ${req.count + 1}`,
    p.values,
    RECURRING,
  );
  const more = rows.length > req.count;
  const page = more ? rows.slice(0, req.count) : rows;
  if (backwards) page.reverse();
  const position = (d: Cursor['d'], row: TrailRow) => Buffer.from(JSON.stringify({ d, at: row.recorded.toISOString(), id: row.id })).toString('base64url');
  const first = page[0];
  const last = page[page.length - 1];
  const result: SearchResult = {
    matches: page.map(trailVersion),
    included: await included(q, req.include, page, visibility),
    next: last && (backwards || more) ? position('next', last) : undefined,
    previous: first && (backwards ? more : !!cursor) ? position('previous', first) : undefined,
  };
  if (!cursor && !more && req.total !== 'none') result.total = page.length;
  else if (req.total !== 'page' && req.total !== 'none') result.total = await count();
  return result;
}

function decodeCursor(text: string): Cursor {
  try {
    const c = JSON.parse(Buffer.from(text, 'base64url').toString()) as Cursor;
    if ((c.d === 'next' || c.d === 'previous') && typeof c.at === 'string' && !Number.isNaN(Date.parse(c.at)) && isTrailId(c.id)) return c;
  } catch {
    // reported below
  }
  throw badRequest('Invalid _cursor: page links are only valid with the parameters they came with');
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

/** The AuditEvent `id` (undefined: none), and whether the rules let `visibility` see it. */
export async function readTrailIfVisible(q: Queryable, id: string, visibility: Visibility | null): Promise<(StoredVersion & { visible: boolean }) | undefined> {
  if (!isTrailId(id)) return undefined;
  const p = new SqlParams();
  const rows = await q.query<TrailRow & { visible: boolean }>(
    `SELECT ${trailColumns('t')}, ${visibleRow(visibility, p, 'probe')} AS visible FROM audit_trail t WHERE t.id = ${p.add(id)}::uuid`,
    p.values,
    { prepare: true },
  );
  return rows[0] && { ...trailVersion(rows[0]), visible: rows[0].visible };
}

/** The ids among `ids` of the AuditEvents the rules let `visibility` see. */
export async function visibleTrailIds(q: Queryable, ids: string[], visibility: Visibility | null): Promise<string[]> {
  const p = new SqlParams();
  const sql = `SELECT t.id FROM audit_trail t WHERE t.id = ANY(${p.add(ids.filter(isTrailId))}::uuid[]) AND ${visibleRow(visibility, p, 'probe')}`;
  return (await q.query<{ id: string }>(sql, p.values, { prepare: true })).map((row) => row.id);
}

/**
 * The trail newest first, for `AuditEvent/_history` (or one event's: `id`), with the history
 * interaction's bounds: an AuditEvent has one version, created when recorded.
 */
export async function trailHistory(
  q: Queryable,
  h: { id?: string; since?: Date; at?: { high: Date }; before: Date; count: number; offset: number; visibility: Visibility | null },
): Promise<{ entries: HistoryEntry[]; total?: number }> {
  if (h.id !== undefined && !isTrailId(h.id)) return { entries: [], total: 0 };
  const p = new SqlParams();
  const where = [`t.recorded <= ${p.add(h.before)}::timestamptz`, visibleRow(h.visibility, p, 'set')];
  if (h.id !== undefined) where.push(`t.id = ${p.add(h.id)}::uuid`);
  if (h.since) where.push(`t.recorded >= ${p.add(h.since)}::timestamptz`);
  if (h.at) where.push(`t.recorded <= ${p.add(h.at.high)}::timestamptz`);
  const rows = await q.query<TrailRow>(
    `SELECT ${trailColumns('t')} FROM audit_trail t WHERE ${where.join(' AND ')} ORDER BY t.recorded DESC, t.id DESC LIMIT ${Math.max(0, h.count)} OFFSET ${Math.max(0, h.offset)}`,
    p.values,
  );
  const entries = rows.map((row) => ({ ...trailVersion(row), method: 'POST' }));
  return { entries, ...(h.id !== undefined ? { total: entries.length } : {}) };
}
