import type { Bundle, BundleEntry, Task } from '@medplum/fhirtypes';
import { fail, FhirError } from '../fhir/outcome.js';
import { bodyOf, reader, type Context, type FhirRequest, type FhirResponse } from '../interactions/context.js';
import { readResponse } from '../interactions/read.js';
import { search } from '../interactions/search.js';
import { operationOf, type Route } from '../route.js';
import { compartmentParams } from '../search/compartments.js';
import { parseSearch } from '../search/parse.js';
import type { Queryable } from '../store/db.js';
import { storeFor, STORAGES } from '../stores/by-type.js';
import { checkLinkWrite } from './link-writes.js';
import { checkTaskOwnerChange } from './task-writes.js';
import { visibilityOf } from './principal.js';
import { restrictionsFor, unrestricted, type Restriction } from './restrictions.js';
import { NO_RULES } from './rules.js';
import { isStructureType, mayWriteType, ownedBy, structureWriter, type StructureWriter } from './structure-writes.js';
import { hiddenFromCaller, isJudged, isPatientData, type Visibility } from './visibility.js';

interface Params {
  type: string;
  id: string;
  /** The type searched in a compartment (`Patient/[id]/[target]`). */
  target?: string;
}

const forbidden = (msg: string) => fail(403, 'forbidden', msg);

const hidden = (type: string, id: string) => hiddenFromCaller(type, `${type}/${id}`);

/**
 * Runs a route within what the access token allows, then the équipe-de-soins rules: the one place
 * that decides access.
 *
 * Scopes: a scope confined to a patient or to a `?param=value` filter is enforced by the search
 * engine itself: its criteria are added to searches, and a resource read, written or included
 * must match them. What cannot be confined this way (history of a type, conditional writes,
 * system-wide interactions) needs a scope without restriction.
 *
 * Équipe de soins: searches, includes, chains, counts and histories see only what the caller may
 * (visible() in search/sql.ts). A resource read or changed by id must be visible before (a
 * version read by vread or instance history is judged on its own: versionRules); a resource
 * written must be visible after, in the write's transaction, so that a write leaving
 * the caller's reach is rolled back. A CareTeam or Consent may only be written for a patient the
 * caller could already see (or one nobody is linked to yet): no one joins a team on their own.
 * These, and the directory's ownership, are checked on each version as it will be stored (the
 * `checkWrite` the inner context carries to the write path), after references are resolved.
 *
 * The directory and conformance resources are written by administrators and system clients of
 * the whole pôle, and a system client acting for an organisation writes its own structure's;
 * never by a user (structure-writes.ts).
 */
export async function guarded(ctx: Context, req: FhirRequest, route: Route, p: Params): Promise<FhirResponse> {
  const access = ctx.access;
  if (!access || !route.permission) return route.handle(ctx, req, p as never);
  const type = p.target || p.type || undefined;
  const store = storeFor(type);
  const rs = restrictionsFor(access, type, route.permission);
  const denied = () => forbidden(`The access token's scopes do not allow ${req.method} on /${req.path.join('/')}`);
  if (!rs.length) throw denied();
  const operation = operationOf(route);
  // Loading conformance resources, and work over all data (a reindex locks and rewrites every row
  // of a type), are for administrators and system clients of the whole pôle.
  if ((route.writesConformance || route.overAllData) && structureWriter(access, ctx.rules ?? NO_RULES) !== 'all') {
    throw forbidden(`${operation} is for administrators and system clients of the whole pôle`);
  }
  if (route.writesConformance) return route.handle(ctx, req, p as never);
  const visibility = type && !isJudged(type) ? null : await visibilityOf(ctx);
  if (operation) {
    // Operations over every patient's data are for system clients of the whole pôle; one on a
    // patient's resource, for whoever may see it.
    if (!type && visibility) throw forbidden(`${operation} is for a system client acting for the whole pôle`);
    // One on a stored resource must be on one the scopes reach and the rules let the caller see
    // (what does not exist is for the operation to tell). Break-glass is the way to a patient
    // outside one's équipe: it checks its own conditions.
    if (type && p.id && (visibility || !unrestricted(rs)) && operation !== '$break-glass') {
      const q = reader(ctx);
      if (!(await visibleIds(q, type, [p.id], rs, ctx.fhirBase, visibility)).has(p.id)) {
        const current = await store.read(q, type, p.id);
        if (current && !current.deleted) throw visibility ? hidden(type, p.id) : denied();
      }
    }
    return route.handle(ctx, req, p as never);
  }
  const shape = route.pattern.join('/');
  const instance = shape.startsWith(':type/:id');
  const write = route.permission === 'c' || route.permission === 'u' || route.permission === 'd';
  // A vread or an instance history checks each version it shows (versionRules), where versions are
  // judged on their own; a resource of one version is checked here as a read.
  const versioned = (route.interaction === 'vread' || route.interaction === 'history-instance') && store.judgesVersions;
  const structure = write && !!type && isStructureType(type);
  const writer = structure ? structureWriter(access, ctx.rules ?? NO_RULES) : undefined;
  if (structure && !mayWriteType(writer, type as string)) {
    throw forbidden(`${type} resources are written by administrators and system clients${writer ? ' of the whole pôle' : ''} only`);
  }
  ctx = { ...ctx, checkWrite: write ? writeCheck(ctx.fhirBase, type as string, visibility, writer) : undefined };
  if (unrestricted(rs) && (versioned || !(visibility && (instance || write)))) return withVisibleIncludes(ctx, await route.handle(ctx, req, p as never));
  if (!unrestricted(rs)) {
    if (type && route.permission === 's' && (shape === ':type' || shape === ':type/_search')) {
      return withVisibleIncludes(ctx, await restrictedSearch(ctx, req, type, rs));
    }
    if (type && p.target && route.permission === 's') {
      return withVisibleIncludes(ctx, await restrictedSearch(ctx, req, type, rs, { type: p.type, id: p.id }));
    }
    if (!type || !(instance || (route.permission === 'c' && shape === ':type'))) {
      throw forbidden(`${req.method} on /${req.path.join('/')} needs a scope without patient or filter restriction`);
    }
  }
  const checkType = type as string;
  const run = async (q: Queryable, inner: Context) => {
    if (route.interaction === 'read' && unrestricted(rs)) {
      // Read and checked in one statement: every read by id goes this way.
      const row = await store.readIfVisible(q, checkType, p.id, visibility);
      if (row && !row.deleted && !row.visible) throw hidden(checkType, p.id);
      return readResponse(req, checkType, p.id, row);
    }
    // Under restricted scopes, the current row of a versioned route must match them; its versions meet the rules on their own.
    const rules = versioned ? null : visibility;
    if (instance && !(await visibleIds(q, checkType, [p.id], rs, ctx.fhirBase, rules)).has(p.id)) {
      const current = await store.read(q, checkType, p.id);
      // What does not exist (or no more) may be told; what exists outside the caller's reach may not be touched.
      if (current && !current.deleted) throw rules ? hidden(checkType, p.id) : denied();
      if (route.permission === 'r' || route.permission === 'd') return route.handle(inner, req, p as never);
    }
    const res = await route.handle(inner, req, p as never);
    if (write && route.permission !== 'd') {
      const written = writtenId(res, ctx.fhirBase, checkType);
      // A new patient is nobody's yet: its creator links it to a team next.
      const created = checkType === 'Patient' && res.status === 201;
      if (!written || !(await visibleIds(q, checkType, [written], rs, ctx.fhirBase, created ? null : visibility)).has(written)) {
        const why = !visibility ? 'outside your scopes' : isPatientData(checkType) ? 'it would be outside your équipe de soins' : 'it would not be yours';
        throw forbidden(`You may not write this ${checkType}: ${why}`);
      }
    }
    return res;
  };
  if (!write) return withVisibleIncludes(ctx, await run(reader(ctx), ctx));
  if (ctx.tx) return run(ctx.tx, ctx);
  return ctx.db.transaction((tx) => run(tx, { ...ctx, tx }));
}

/**
 * What a write of `type` is checked against on each version stored: a CareTeam's, Encounter's or Consent's
 * patient (under the équipe-de-soins rules), a structure resource's organisation (for a system
 * client acting for one: the version it replaces and the one it stores must both be its own), a
 * Task addressed to a structure (taken on by its members only: task-writes.ts).
 */
function writeCheck(fhirBase: string, type: string, visibility: Visibility | null, writer: StructureWriter): Context['checkWrite'] {
  // An Encounter links its patient to the structure of the stay (care-links.ts): linked as a CareTeam is.
  const links = visibility && (type === 'CareTeam' || type === 'Consent' || type === 'Encounter');
  const inbox = visibility && type === 'Task' ? visibility : undefined;
  const owner = writer && writer !== 'all' ? writer.organization : undefined;
  if (!links && !inbox && !owner) return undefined;
  return async (tx, previous, next) => {
    if (links) await checkLinkWrite(tx, visibility, fhirBase, previous, next);
    if (inbox) checkTaskOwnerChange(inbox, fhirBase, previous, next as Task | null);
    if (owner === undefined) return;
    const before = previous?.content ? JSON.parse(previous.content) : undefined;
    if ((before && !ownedBy(owner, before, fhirBase)) || (next && !ownedBy(owner, next, fhirBase))) {
      throw forbidden(`${type} resources of another organisation than Organization/${owner} are not yours to write`);
    }
  };
}

/**
 * A search confined to the restriction: the filter's criteria added, in the patient's compartment.
 * A compartment search the client asked for must be that patient's.
 */
async function restrictedSearch(ctx: Context, req: FhirRequest, type: string, rs: Restriction[], asked?: { type: string; id: string }): Promise<FhirResponse> {
  const r = mergeRestrictions(rs);
  if (!r) throw forbidden(`Scopes with different filters on ${type} cannot be searched together: search with one of them at a time`);
  if (asked && r.patient && (asked.type !== 'Patient' || asked.id !== r.patient)) {
    throw forbidden(`The access token is confined to Patient/${r.patient}`);
  }
  // The scope's criteria must all apply: lenient search would ignore an unknown one.
  if (r.filter) checkFilter(type, r.filter);
  const query = new URLSearchParams(req.query);
  if (r.filter) for (const [k, v] of new URLSearchParams(r.filter)) query.append(k, v);
  if (r.patient && type === 'Patient') query.append('_id', r.patient);
  else if (r.patient && !compartmentParams('Patient', type)) throw forbidden(`${type} is not in the patient compartment`);
  const compartment = r.patient && type !== 'Patient' ? { type: 'Patient', id: r.patient, alone: true } : asked;
  return search(ctx, { ...req, query }, type, compartment);
}

function checkFilter(type: string, filter: string): void {
  try {
    parseSearch([type], new URLSearchParams(filter), true, STORAGES);
  } catch (err) {
    if (err instanceof FhirError && err.status === 400) throw forbidden(`The scope filter ?${filter} cannot be applied to ${type}`);
    throw err;
  }
}

/**
 * The alternatives as one restriction, when the search engine can apply their union: the same
 * patient and either no filter or one parameter whose values are ORed. Undefined otherwise.
 */
function mergeRestrictions(rs: Restriction[]): Restriction | undefined {
  if (new Set(rs.map((r) => r.patient)).size > 1) return undefined;
  const patient = rs[0].patient;
  if (rs.some((r) => !r.filter)) return { patient };
  const filters = rs.map((r) => [...new URLSearchParams(r.filter)]);
  if (filters.some((f) => f.length !== 1 || f[0][0] !== filters[0][0][0])) return undefined;
  const merged = new URLSearchParams([[filters[0][0][0], filters.map((f) => f[0][1]).join(',')]]);
  return { patient, filter: merged.toString() };
}

/** The ids among `ids` that some alternative reaches, for whom `visibility` says: a search on `_id` with its criteria. */
async function visibleIds(q: Queryable, type: string, ids: string[], rs: Restriction[], fhirBase: string, visibility: Visibility | null): Promise<Set<string>> {
  const seen = new Set<string>();
  for (const r of rs) {
    if (!r.filter && !r.patient) {
      for (const id of await storeFor(type).visibleIds(q, type, ids, visibility)) seen.add(id);
      continue;
    }
    const query = new URLSearchParams([
      ['_id', ids.join(',')],
      ['_count', String(ids.length)],
      ['_total', 'none'],
    ]);
    if (r.filter) for (const [k, v] of new URLSearchParams(r.filter)) query.append(k, v);
    if (r.patient && type === 'Patient') query.append('_id', r.patient);
    else if (r.patient && !compartmentParams('Patient', type)) continue;
    try {
      const parsed = parseSearch([type], query, true, STORAGES, r.patient && type !== 'Patient' ? { type: 'Patient', id: r.patient, alone: true } : undefined);
      for (const m of (await storeFor(type).search(q, parsed, fhirBase, visibility)).matches) seen.add(m.id);
    } catch (err) {
      // A filter the engine cannot apply grants nothing.
      if (!(err instanceof FhirError) || err.status !== 400) throw err;
    }
  }
  return seen;
}

/** Drops the _include/_revinclude entries of a search the token's scopes may not read (the équipe-de-soins rules filtered them in SQL). */
async function withVisibleIncludes(ctx: Context, res: FhirResponse): Promise<FhirResponse> {
  // Nothing to drop for a token that reads every type without restriction; a page sent as text
  // is parsed only when it may hold included entries.
  if (!ctx.access || unrestricted(restrictionsFor(ctx.access, undefined, 'r'))) return res;
  if (res.raw !== undefined && !res.raw.includes('"mode":"include"')) return res;
  const bundle = bodyOf(res) as Bundle | undefined;
  const included = bundle?.resourceType === 'Bundle' && bundle.type === 'searchset' ? (bundle.entry ?? []).filter((e) => e.search?.mode === 'include') : [];
  if (!included.length) return res;
  const byType = new Map<string, BundleEntry[]>();
  for (const e of included) byType.set(e.resource?.resourceType as string, [...(byType.get(e.resource?.resourceType as string) ?? []), e]);
  const hidden = new Set<BundleEntry>();
  for (const [type, entries] of byType) {
    const rs = restrictionsFor(ctx.access, type, 'r');
    if (unrestricted(rs)) continue;
    const ids = entries.map((e) => e.resource?.id as string);
    const shown = rs.length ? await visibleIds(reader(ctx), type, ids, rs, ctx.fhirBase, null) : new Set<string>();
    for (const e of entries) if (!shown.has(e.resource?.id as string)) hidden.add(e);
  }
  if (!hidden.size) return res;
  return { ...res, raw: undefined, resource: { ...(bundle as Bundle), entry: bundle?.entry?.filter((e) => !hidden.has(e)) } };
}

/** The id of the resource a write answered with (from its Location). */
function writtenId(res: FhirResponse, fhirBase: string, type: string): string | undefined {
  const prefix = `${fhirBase}/${type}/`;
  return res.location?.startsWith(prefix) ? res.location.slice(prefix.length).split('/')[0] : undefined;
}
