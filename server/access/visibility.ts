import { fail } from '../fhir/outcome.js';
import { compartmentPairs, compartmentParams } from '../search/compartments.js';
import { Followed } from '../store/change-signals.js';
import type { Database, Queryable } from '../store/db.js';
import { SqlParams } from '../search/sql-params.js';

type Params = Pick<SqlParams, 'add'>;

/**
 * Whom a search runs for, as the équipe-de-soins rules see them (DOMAIN.md §4.2). Built from the
 * access token by principal.ts; `null` where no rule applies (AUTH=off, the server's own
 * work, a system client of the whole pôle).
 */
export interface Visibility {
  /** A user acting in a PractitionerRole (ids), a system client acting for an organisation (id), or nobody's patients. */
  principal: { role: string; practitioner?: string } | { organization: string } | { nobody: true };
  /** `Organization/[id]` of the structures that hold their patients' records (with their services, once looked up by withActors). */
  recordHolders: string[];
  /** The key this principal's break-glass accesses are recorded under (see break_glass). */
  breakGlassActor?: string;
  /** The actors the principal is, once looked up (withActors): plain values in the SQL, short plans. */
  actors?: string[];
  /**
   * The client and user whose own Subscriptions the caller sees (their channels hold endpoints and
   * header secrets); absent for an administrator, who sees them all.
   */
  subscriber?: { clientId: string; subject: string };
}

/** `Type.param` of the references that put a resource of another type than Patient in a patient's compartment. */
const pairs = () => compartmentPairs('Patient');

/** The actors the principal is: its role, practitioner and the role's organisation, or the organisation and its roles. */
type Principal = Visibility['principal'];

/**
 * The organisations `orgs` (SQL giving `Organization/[id]` rows) and those `partOf` them, a few
 * levels down: a hospital's services are the hospital (CSP L1110-12, the same establishment).
 */
function withServicesSql(orgs: string): string {
  return (
    `WITH RECURSIVE down(actor, depth) AS (SELECT o.actor, 0 FROM (${orgs}) o(actor) UNION ` +
    `SELECT 'Organization/' || m.id, d.depth + 1 FROM down d JOIN sp_reference s ON s.type = 'Organization' AND s.param = 'partof' ` +
    `AND s.target_type = 'Organization' AND 'Organization/' || s.target_id = d.actor JOIN resource m ON m.rid = s.rid AND NOT m.deleted ` +
    `WHERE d.depth < ${SERVICE_DEPTH}) SELECT actor FROM down`
  );
}

/** How many levels of `partOf` an organisation's services are looked for (an entité juridique, a site, a service, a unit). */
const SERVICE_DEPTH = 3;

function actorsSql(pr: Exclude<Principal, { nobody: true }>, p: Params): string {
  if ('role' in pr) {
    const own = [`SELECT ${p.add(`PractitionerRole/${pr.role}`)}::text AS actor`];
    if (pr.practitioner) own.push(`SELECT ${p.add(`Practitioner/${pr.practitioner}`)}::text`);
    const organizations = `SELECT 'Organization/' || o.target_id FROM sp_reference o WHERE o.rid = (SELECT rid FROM resource WHERE type = 'PractitionerRole' AND id = ${p.add(
      pr.role,
    )}) AND o.param = 'organization' AND o.target_type = 'Organization'`;
    own.push(`SELECT actor FROM (${withServicesSql(organizations)}) services`);
    return own.join(' UNION ALL ');
  }
  return (
    `SELECT actor FROM (${withServicesSql(`SELECT ${p.add(`Organization/${pr.organization}`)}::text`)}) services UNION ALL ` +
    `SELECT 'PractitionerRole/' || m.id FROM sp_reference o JOIN resource m ON m.rid = o.rid WHERE o.type = 'PractitionerRole' ` +
    `AND o.param = 'organization' AND o.target_type = 'Organization' AND o.target_id = ${p.add(pr.organization)}`
  );
}

/**
 * How the rules are checked: `probe`, per patient (reads, includes, searches of one patient: few
 * rows), or `set`, against the principal's whole list of patients computed once per statement
 * and hashed (broad searches and their counts: many rows).
 */
export type AccessCheck = 'probe' | 'set';

/** The rules' arguments as SQL: the principal's actors, the record holders and the break-glass key. */
interface RuleArgs {
  actors: string;
  holders: string;
  glass: string;
}

/**
 * The rules' arguments; undefined for nobody. The actors must have been looked up (withActors, as
 * visibilityOf does): the probe names them three times.
 */
function ruleArgs(v: Visibility, p: Params): RuleArgs | undefined {
  if ('nobody' in v.principal) return undefined;
  if (!v.actors) throw new Error('The équipe-de-soins rules need the principal’s actors looked up first (withActors)');
  return { actors: `${p.add(v.actors)}::text[]`, holders: `${p.add(v.recordHolders)}::text[]`, glass: `${p.add(v.breakGlassActor ?? null)}::text` };
}

/**
 * The condition that the patient `pid` (SQL) is one whose data the principal may see, as `check`
 * says. A probe is written out here (the rules of migration 009's patient_visible, which it
 * replaces): as a subquery of the statement, a check costs a few µs, where the PL/pgSQL call cost
 * 20; statements under the rules are prepared, so their longer text is planned once. A patient is
 * visible when linked to one of the actors and not objecting (globally, which spares their
 * médecin traitant, or to one of the actors), or under a break-glass access in force.
 */
function patientSql(pid: string, a: RuleArgs, withOpposition: boolean, check: AccessCheck): string {
  if (check === 'set') return `${pid} IN (SELECT visible_patients(${a.actors}, ${a.holders}, ${a.glass}, ${withOpposition}))`;
  const glass = `EXISTS (SELECT 1 FROM break_glass b WHERE b.patient = ${pid} AND b.actor = ${a.glass} AND b.until > now())`;
  const mine = `l.actor = ANY(${a.actors})`;
  const linked = `coalesce(bool_or(${mine} AND (l.kind IN ('member', 'pcp', 'permit') OR (l.kind = 'holder' AND l.actor = ANY(${a.holders})))), false)`;
  // A global opposition spares the patient's médecin traitant.
  const opposed = `coalesce(bool_or(l.kind = 'deny' AND ${mine}) OR (bool_or(l.kind = 'deny' AND l.actor = '*') AND NOT bool_or(l.kind = 'pcp' AND ${mine})), false)`;
  // The patient's current links read in one range of care_link_check (a patient has a handful):
  // as conditions of their own, the kinds and actors made the index look up each pair of them,
  // four lookups per patient checked.
  const links = `(SELECT ${linked}${withOpposition ? ` AND NOT ${opposed}` : ''} FROM care_link l WHERE l.patient = ${pid} AND l.start <= now() AND l.until > now())`;
  return `(${links} OR ${glass})`;
}

/** The types the principal's actors are read from: a role's organisation, an organisation's services and roles. */
export const ACTOR_TYPES = ['PractitionerRole', 'Organization'] as const;

/** How long actors are kept when no change feed is heard: how late a role moved in another process applies here. */
const FRESH_MS = 1000;

type ActorsCache = Map<string, { freshness: Followed; actors: string[] }>;
const actorsCaches = new WeakMap<Database, ActorsCache>();

function actorsCacheOf(db: Database): ActorsCache {
  let cache = actorsCaches.get(db);
  if (!cache) actorsCaches.set(db, (cache = new Map()));
  return cache;
}

/**
 * The visibility with its principal's actors, and the record holders with their services, looked
 * up in `q` and kept per database while no PractitionerRole or Organization changed (the
 * change feed says so, and dispatch waits for every process to hear such a write: see routes.ts);
 * a second at most without a feed (store/change-signals.ts). A transaction (`q` is no Database) reads its own: what it
 * wrote is not committed, and may never be.
 */
export async function withActors(q: Queryable | Database, v: Visibility | null): Promise<Visibility | null> {
  if (!v || v.actors || 'nobody' in v.principal) return v;
  const shared = 'root' in q ? actorsCacheOf(q.root) : undefined;
  const lookUp = async (key: string, sql: (p: SqlParams) => string): Promise<string[]> => {
    const hit = shared?.get(key);
    if (hit?.freshness.current()) return hit.actors;
    const freshness = hit?.freshness ?? new Followed(ACTOR_TYPES, FRESH_MS);
    const looked = freshness.look();
    const p = new SqlParams();
    const rows = await q.query<{ actor: string }>(sql(p), p.values);
    const actors = [...new Set(rows.map((r) => r.actor))];
    looked();
    shared?.set(key, { freshness, actors });
    return actors;
  };
  const principal = v.principal;
  const actors = await lookUp(JSON.stringify(principal), (p) => actorsSql(principal, p));
  const holders = v.recordHolders.length
    ? await lookUp(`holders:${JSON.stringify(v.recordHolders)}`, (p) => withServicesSql(`SELECT unnest(${p.add(v.recordHolders)}::text[])`))
    : [];
  return { ...v, actors, recordHolders: holders };
}

/** The types of a patient's data: Patient and those of its compartment. */
const patientDataTypes = () => ['Patient', ...new Set(pairs().map((pair) => pair.split('.')[0]))];

/**
 * The condition (over `resource <alias>`) that the équipe-de-soins rules put on a row of one of
 * `types` (empty: any type): a Patient must be one of the principal's patients; a resource of the
 * patient compartment may name no other patient; a Provenance is seen with every resource it
 * targets (see below); directory and conformance resources are open to every authenticated user.
 * `patient`: one that every row of the (single) type names, as a search for that patient's data
 * says; checked once for all rows instead of once per row.
 */
export function accessSql(v: Visibility, alias: string, types: string[], p: Params, check: AccessCheck = 'probe', patient?: string): string {
  // Added to the parameters only once a condition uses it: PostgreSQL refuses a parameter whose type nothing tells.
  // Shared by the whole condition, a Provenance's targets' included: a `set` check's list is computed once.
  let args: RuleArgs | undefined | null = null;
  const ok: PatientCheck = (pid, withOpposition) => {
    if (args === null) args = ruleArgs(v, p);
    return args ? patientSql(pid, args, withOpposition, check) : 'false';
  };
  const forType = (type: string): string | undefined => {
    if (OWNED_TYPES.includes(type)) return ownerSql(v, `${alias}.id`, p);
    if (type === 'Provenance') return provenanceSql(alias, p, ok, PROVENANCE_DEPTH);
    if (type === 'Patient') return ok(`${alias}.id`, true);
    const params = compartmentParams('Patient', type);
    if (!params) return undefined;
    const withOpposition = type !== 'Consent';
    const where = `ax.type = ${p.add(type)} AND ax.param = ANY(${p.add(params)}::text[])`;
    if (patient === undefined || types.length !== 1) return outsideSql(alias, where, ok, withOpposition);
    // An uncorrelated subquery: run once per statement.
    const named = `${p.add(patient)}::text`;
    return `(SELECT ${ok(named, withOpposition)}) AND ${outsideSql(alias, where, ok, withOpposition, named)}`;
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
    `WHEN 'Provenance' THEN ${forType('Provenance')} WHEN 'Subscription' THEN ${forType('Subscription')} ELSE ${outsideSql(alias, anyPair(p), ok, true)} END`
  );
}

/** The condition that a patient id (SQL) is visible, with or without its oppositions. */
type PatientCheck = (pid: string, withOpposition: boolean) => string;

/** The condition on `ax` that its row puts a resource in a patient's compartment. */
const anyPair = (p: Params) => `ax.type || '.' || ax.param = ANY(${p.add(pairs())}::text[])`;

/**
 * The condition that the row `alias` names, by the reference parameters `params` (a condition on
 * `ax`), no patient the principal may not see (`named`: but that one, checked apart). A
 * correlated scalar subquery: the planner keeps it per row (an EXISTS would become an anti-join
 * over every patient reference of the type); a `set` check's list is hashed once.
 */
function outsideSql(alias: string, params: string, ok: PatientCheck, withOpposition: boolean, named?: string): string {
  return `NOT coalesce((SELECT true FROM sp_reference ax WHERE ax.rid = ${alias}.rid AND ${params} AND ax.target_type = 'Patient'${
    named ? ` AND ax.target_id <> ${named}` : ''
  } AND NOT ${ok('ax.target_id', withOpposition)} LIMIT 1), false)`;
}

/** How deep Provenances of Provenances are followed to their targets: past that, one is hidden. */
const PROVENANCE_DEPTH = 2;

/**
 * The condition that the Provenance `alias` is seen: it tells who did what to its targets, so it
 * goes with all of them. A target of a patient's data must be there and visible (deleted or
 * unknown, whose it was cannot be told; a Consent held to its patient's oppositions, stricter
 * than the Consent itself); one elsewhere than here (no type known), never, nor a Provenance
 * without a literal target; the directory and conformance resources are open.
 */
function provenanceSql(alias: string, p: Params, ok: PatientCheck, depth: number): string {
  if (depth === 0) return 'false';
  const [t, r] = [`pvt${depth}`, `pvr${depth}`];
  const seen = `CASE ${r}.type WHEN 'Patient' THEN ${ok(`${r}.id`, true)} WHEN 'Provenance' THEN ${provenanceSql(r, p, ok, depth - 1)} ELSE ${outsideSql(r, anyPair(p), ok, true)} END`;
  const target = `SELECT 1 FROM resource ${r} WHERE ${r}.type = ${t}.target_type AND ${r}.id = ${t}.target_id AND NOT ${r}.deleted AND ${seen}`;
  const shown = `${t}.target_type IS NOT NULL AND (NOT ${t}.target_type = ANY(${p.add(patientDataTypes())}::text[]) OR EXISTS (${target}))`;
  return `coalesce((SELECT bool_and(${shown}) FROM sp_reference ${t} WHERE ${t}.rid = ${alias}.rid AND ${t}.param = 'target'), false)`;
}

/**
 * The condition that the principal may see an audit trail row (`patients` and `agents`, SQL
 * text[]): every patient it names must be one they may see (an AuditEvent tells what was done with
 * their data); one naming no patient (a login, a refused or system-wide request) only when they are
 * among its agents. `patient`: one that every row names, checked once.
 */
export function trailAccessSql(v: Visibility, cols: { patients: string; agents: string }, p: Params, check: AccessCheck, patient?: string): string {
  const args = ruleArgs(v, p);
  if (!args) return 'false';
  const named = patient === undefined ? undefined : `${p.add(patient)}::text`;
  const others = `NOT EXISTS (SELECT 1 FROM unnest(${cols.patients}) AS ap(pid) WHERE ${named ? `ap.pid <> ${named} AND ` : ''}NOT ${patientSql('ap.pid', args, true, check)})`;
  if (named) return `(SELECT ${patientSql(named, args, true, 'probe')}) AND ${others}`;
  return `CASE WHEN cardinality(${cols.patients}) = 0 THEN ${cols.agents} && ${args.actors} ELSE ${others} END`;
}

/**
 * The condition that the principal may see a version (`resource_version <alias>`, of `type` when
 * one): every patient it names (its `patients`, kept with it: migration 017) must be one they may
 * see, without the oppositions for a Consent, as accessSql says of the current row; a tombstone
 * names those of the version it deleted. So a resource moved to another patient shows its old
 * versions to the old patient's équipe only, and a deleted one its versions to whoever could see
 * them. A version naming no patient (a directory resource) costs one test.
 */
export function versionAccessSql(v: Visibility, alias: string, type: string | undefined, p: Params, check: AccessCheck): string {
  if (type && OWNED_TYPES.includes(type)) return ownerSql(v, `${alias}.id`, p);
  if (type && !isPatientData(type)) return 'true';
  // A Provenance names its patients through its targets, which its versions do not keep: it is
  // seen as its live row is (deleted: by nobody under the rules).
  const provenance = () =>
    `EXISTS (SELECT 1 FROM resource pv WHERE pv.rid = ${alias}.rid AND NOT pv.deleted AND ${accessSql(v, 'pv', ['Provenance'], p, check)})`;
  if (type === 'Provenance') return provenance();
  const args = ruleArgs(v, p);
  const all = (withOpposition: boolean) =>
    args ? `NOT EXISTS (SELECT 1 FROM unnest(${alias}.patients) AS vp(pid) WHERE NOT ${patientSql('vp.pid', args, withOpposition, check)})` : 'false';
  const none = `cardinality(${alias}.patients) = 0`;
  if (type) return `(${none} OR ${all(type !== 'Consent')})`;
  return `CASE WHEN ${alias}.type = 'Provenance' THEN ${provenance()} WHEN ${alias}.type = 'Subscription' THEN ${ownerSql(v, `${alias}.id`, p)} WHEN ${none} THEN true WHEN ${alias}.type = 'Consent' THEN ${all(false)} ELSE ${all(true)} END`;
}

/** Whether resources of `type` are a patient's data (the patient compartment), which the équipe-de-soins rules govern. */
export const isPatientData = (type: string) => type === 'Patient' || !!compartmentParams('Patient', type);

/** The refusal of `what` (a resource or one of its versions, of `type`) that the rules hide from the caller. */
export const hiddenFromCaller = (type: string, what: string) =>
  fail(403, 'forbidden', `${what} ${isPatientData(type) ? 'is outside your équipe de soins' : 'belongs to another client or user'}`);

/** The types whose resources are their owner's alone (subscription_state keeps who that is). */
const OWNED_TYPES = ['Subscription'];

/** Whether the rules judge a row of `type` by its id (a Patient's own, an owned resource's) rather than by its row id alone. */
export const judgedById = (type: string) => type === 'Patient' || OWNED_TYPES.includes(type);

/** Whether the rules judge each row of `type`: a patient's data, and what is its owner's alone. */
export const isJudged = (type: string) => isPatientData(type) || OWNED_TYPES.includes(type);

/**
 * The condition that the Subscription `id` (SQL) is the caller's: written by the same client for
 * the same user (or an administrator's to see). One written by nobody (AUTH off, the server's own
 * work) is seen by those the rules do not concern only.
 */
export function ownerSql(v: Visibility | null, id: string, p: Params): string {
  if (!v?.subscriber) return 'true';
  const { clientId, subject } = v.subscriber;
  return (
    `EXISTS (SELECT 1 FROM subscription_state ss WHERE ss.id = ${id} AND ss.owner->>'clientId' = ${p.add(clientId)}::text ` +
    `AND ss.owner->>'subject' = ${p.add(subject)}::text)`
  );
}

/** The condition that a patient id (SQL) is one the principal cares for, whatever the patient's oppositions. */
export function caresForSql(v: Visibility, patient: string, p: Params): string {
  const args = ruleArgs(v, p);
  return args ? patientSql(patient, args, false, 'probe') : 'false';
}
