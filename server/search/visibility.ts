import { compartmentPairs, compartmentParams } from './compartments.js';
import type { Queryable } from '../store/db.js';
import { SqlParams } from './sql.js';

type Params = Pick<SqlParams, 'add'>;

/**
 * Whom a search runs for, as the équipe-de-soins rules see them (DOMAIN.md §4.2). Built from the
 * access token by interactions/access.ts; `null` where no rule applies (AUTH=off, the server's own
 * work, a system client of the whole pôle).
 */
export interface Visibility {
  /** A user acting in a PractitionerRole (ids), a system client acting for an organisation (id), or nobody's patients. */
  principal: { role: string; practitioner?: string } | { organization: string } | { nobody: true };
  /** `Organization/[id]` of the structures that hold their patients' records. */
  recordHolders: string[];
  /** The key this principal's break-glass accesses are recorded under (see break_glass). */
  breakGlassActor?: string;
  /** The actors the principal is, once looked up (withActors): plain values in the SQL, short plans. */
  actors?: string[];
}

/** `Type.param` of the references that put a resource of another type than Patient in a patient's compartment. */
const pairs = () => compartmentPairs('Patient').filter((pair) => !pair.startsWith('Patient.'));

const ACTIVE = (l: string) => `${l}.start <= now() AND ${l}.until > now()`;

/** The actors the principal is: its role, practitioner and the role's organisation, or the organisation and its roles. */
type Principal = Visibility['principal'];

function actorsSql(pr: Exclude<Principal, { nobody: true }>, p: Params): string {
  if ('role' in pr) {
    const own = [`SELECT ${p.add(`PractitionerRole/${pr.role}`)}::text AS actor`];
    if (pr.practitioner) own.push(`SELECT ${p.add(`Practitioner/${pr.practitioner}`)}::text`);
    own.push(
      `SELECT 'Organization/' || o.target_id FROM sp_reference o WHERE o.rid = (SELECT rid FROM resource WHERE type = 'PractitionerRole' AND id = ${p.add(
        pr.role,
      )}) AND o.param = 'organization' AND o.target_type = 'Organization'`,
    );
    return own.join(' UNION ALL ');
  }
  return (
    `SELECT ${p.add(`Organization/${pr.organization}`)}::text AS actor UNION ALL ` +
    `SELECT 'PractitionerRole/' || m.id FROM sp_reference o JOIN resource m ON m.rid = o.rid WHERE o.type = 'PractitionerRole' ` +
    `AND o.param = 'organization' AND o.target_type = 'Organization' AND o.target_id = ${p.add(pr.organization)}`
  );
}

/**
 * The condition that the patient `pid` (SQL) is one whose data the principal may see: linked as
 * an active participant of an active CareTeam (or by a consent to share), or through an
 * organisation holding the record; and not objecting to it (globally, which spares their médecin
 * traitant, or to one of its actors); or under one of its break-glass accesses in force.
 * `withOpposition` false: whatever the patient's oppositions (their Consents stay readable, so
 * that oppositions can be withdrawn). Evaluated per patient with the care_link index, so that a
 * page or an include costs a few index probes per row, not the principal's whole list.
 */
function patientOk(v: Visibility, pid: string, p: Params, withOpposition: boolean, actors: string): string {
  const linked =
    `EXISTS (SELECT 1 FROM care_link l WHERE l.patient = ${pid} AND l.actor IN ${actors} AND ${ACTIVE('l')} ` +
    `AND (l.kind IN ('member', 'pcp', 'permit') OR (l.kind = 'holder' AND l.actor = ANY(${p.add(v.recordHolders)}::text[]))))`;
  const denied =
    `EXISTS (SELECT 1 FROM care_link d WHERE d.patient = ${pid} AND d.kind = 'deny' AND ${ACTIVE('d')} AND (d.actor IN ${actors} OR (d.actor = '*' AND NOT EXISTS ` +
    `(SELECT 1 FROM care_link t WHERE t.patient = d.patient AND t.kind = 'pcp' AND t.actor IN ${actors} AND ${ACTIVE('t')}))))`;
  const glass = v.breakGlassActor
    ? ` OR EXISTS (SELECT 1 FROM break_glass b WHERE b.patient = ${pid} AND b.actor = ${p.add(v.breakGlassActor)} AND b.until > now())`
    : '';
  return `((${linked}${withOpposition ? ` AND NOT ${denied}` : ''})${glass})`;
}

/**
 * The ids of the patients whose data the principal may see, as patientOk says, computed at once
 * (once per statement, hashed): cheaper than probes when many rows are checked.
 */
function patientSetSql(v: Visibility, p: Params, withOpposition: boolean, actors: string): string {
  const parts = [
    `SELECT l.patient FROM care_link l WHERE l.actor IN ${actors} AND ${ACTIVE('l')} ` +
      `AND (l.kind IN ('member', 'pcp', 'permit') OR (l.kind = 'holder' AND l.actor = ANY(${p.add(v.recordHolders)}::text[])))`,
  ];
  if (withOpposition) {
    // By actor ('*' being one), so that the actor index finds them, not a scan of every opposition.
    parts.push(
      `EXCEPT SELECT d.patient FROM care_link d WHERE d.kind = 'deny' AND d.actor IN (SELECT actor FROM ${actors} a (actor) UNION ALL SELECT '*') AND ${ACTIVE('d')} ` +
        `AND (d.actor <> '*' OR NOT EXISTS (SELECT 1 FROM care_link t WHERE t.patient = d.patient AND t.kind = 'pcp' AND t.actor IN ${actors} AND ${ACTIVE('t')}))`,
    );
  }
  if (v.breakGlassActor) parts.push(`UNION SELECT b.patient FROM break_glass b WHERE b.actor = ${p.add(v.breakGlassActor)} AND b.until > now()`);
  return parts.join(' ');
}

/**
 * How the rules are checked: `probe`, per patient with index probes (reads, includes, searches
 * of one patient: few rows), or `set`, against the principal's whole list of patients computed
 * once per statement (broad searches and their counts: many rows).
 */
export type AccessCheck = 'probe' | 'set';

/** The actors of the principal as SQL for `IN`: the looked-up list, or a subquery; undefined for nobody. */
function actorsOf(v: Visibility, p: Params): string | undefined {
  if ('nobody' in v.principal) return undefined;
  if (v.actors) return `(SELECT unnest(${p.add(v.actors)}::text[]))`;
  return `(${actorsSql(v.principal, p)})`;
}

/** How long a principal's actors are kept: a role moved to another structure keeps the old one's reach that long. */
const ACTORS_TTL_MS = 5_000;

const actorsCaches = new WeakMap<object, Map<string, { at: number; actors: string[] }>>();

/** The visibility with its principal's actors looked up in `q`, kept a few seconds per database (`cache`). */
export async function withActors(q: Queryable, v: Visibility | null, cache: object): Promise<Visibility | null> {
  if (!v || v.actors || 'nobody' in v.principal) return v;
  const key = JSON.stringify(v.principal);
  let actorsCache = actorsCaches.get(cache);
  if (!actorsCache) actorsCaches.set(cache, (actorsCache = new Map()));
  let hit = actorsCache.get(key);
  if (!hit || Date.now() - hit.at > ACTORS_TTL_MS) {
    const p = new SqlParams();
    const rows = await q.query<{ actor: string }>(actorsSql(v.principal, p), p.values);
    hit = { at: Date.now(), actors: rows.map((r) => r.actor) };
    actorsCache.set(key, hit);
  }
  return { ...v, actors: hit.actors };
}

/**
 * The condition (over `resource <alias>`) that the équipe-de-soins rules put on a row of one of
 * `types` (empty: any type): a Patient must be one of the principal's patients; a resource of the
 * patient compartment may name no other patient; directory and conformance resources are open
 * to every authenticated user.
 */
export function accessSql(v: Visibility, alias: string, types: string[], p: Params, check: AccessCheck = 'probe'): string {
  // Added to the parameters only once a condition uses it: PostgreSQL refuses a parameter whose type nothing tells.
  let actors: string | undefined | null = null;
  const ok = (pid: string, withOpposition: boolean) => {
    if (actors === null) actors = actorsOf(v, p);
    if (!actors) return 'false';
    return check === 'probe' ? patientOk(v, pid, p, withOpposition, actors) : `${pid} IN (${patientSetSql(v, p, withOpposition, actors)})`;
  };
  // A correlated scalar subquery: the planner keeps it per row (an EXISTS would become an
  // anti-join over every patient reference of the database).
  const outside = (params: string, withOpposition: boolean) =>
    check === 'probe'
      ? `NOT coalesce((SELECT true FROM sp_reference ax WHERE ax.rid = ${alias}.rid AND ${params} AND ax.target_type = 'Patient' AND NOT ${ok('ax.target_id', withOpposition)} LIMIT 1), false)`
      : // An anti-join over the type's patient references, which the planner may hash.
        `NOT EXISTS (SELECT 1 FROM sp_reference ax WHERE ax.rid = ${alias}.rid AND ${params} AND ax.target_type = 'Patient' AND NOT ${ok('ax.target_id', withOpposition)})`;
  const forType = (type: string): string | undefined => {
    if (type === 'Patient') return ok(`${alias}.id`, true);
    const params = compartmentParams('Patient', type);
    return params ? outside(`ax.type = ${p.add(type)} AND ax.param = ANY(${p.add(params)}::text[])`, type !== 'Consent') : undefined;
  };
  if (types.length === 1) return forType(types[0]) ?? 'true';
  if (types.length > 1) {
    const cases = types.flatMap((t) => {
      const c = forType(t);
      return c ? [`WHEN ${p.add(t)} THEN ${c}`] : [];
    });
    return cases.length ? `CASE ${alias}.type ${cases.join(' ')} ELSE true END` : 'true';
  }
  return (
    `CASE ${alias}.type WHEN 'Patient' THEN ${forType('Patient')} WHEN 'Consent' THEN ${forType('Consent')} ` +
    `ELSE ${outside(`ax.type || '.' || ax.param = ANY(${p.add(pairs())}::text[])`, true)} END`
  );
}

/**
 * The condition on the current row (`resource <alias>`) of a version in a type's or the system's
 * history: visible as above. A deleted resource has no index left to tell its patient: its
 * versions are shown only for types that are not patient data.
 */
export function historyAccessSql(v: Visibility, alias: string, type: string | undefined, p: Params): string {
  const patientTypes = ['Patient', ...pairs().map((pair) => pair.split('.')[0])];
  if (type && !patientTypes.includes(type)) return 'true';
  const live = accessSql(v, alias, type ? [type] : [], p, 'set');
  if (type) return `(NOT ${alias}.deleted AND ${live})`;
  return `CASE WHEN ${alias}.deleted THEN NOT (${alias}.type = ANY(${p.add([...new Set(patientTypes)])}::text[])) ELSE ${live} END`;
}

/** The condition that a patient id (SQL) is one the principal cares for, whatever the patient's oppositions. */
export function caresForSql(v: Visibility, patient: string, p: Params): string {
  const actors = actorsOf(v, p);
  return actors ? patientOk(v, patient, p, false, actors) : 'false';
}
