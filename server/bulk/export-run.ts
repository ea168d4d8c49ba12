import type { Group, OperationOutcome, Resource } from '@medplum/fhirtypes';
import { versionAccessSql, withActors, type Visibility } from '../access/visibility.js';
import type { AccessRecord } from '../audit/event.js';
import { trailEntry, writeTrail } from '../audit/trail.js';
import { parseExact, stringifyExact } from '../fhir/exact-json.js';
import { outcome } from '../fhir/outcome.js';
import { project } from '../fhir/projection.js';
import { compartmentParams } from '../search/compartments.js';
import { parseSearch } from '../search/parse.js';
import { compiler, matchSql } from '../search/sql.js';
import { SqlParams } from '../search/sql-params.js';
import { STORAGES, storeFor } from '../stores/by-type.js';
import type { Database } from '../store/db.js';
import { groupPatients, type ExportParams } from './export-request.js';
import { beat, FileWriter, type Job } from './jobs.js';

/** Resources read per statement: a page's contents in memory at a time, never a whole type. */
const PAGE = 1000;

/** What a finished export keeps for its manifest and trail. */
export interface ExportResult {
  counts: Record<string, number>;
  /** The patients whose data went out. */
  patients: number;
}

/** Thrown when the job was cancelled while running: its rows are gone, the runner stops. */
export class Cancelled extends Error {}

/**
 * Runs an export: each type's resources read a page at a time in the order of their ids (a
 * keyset, so no page costs more than the first), under the équipe-de-soins rules of the client
 * that asked (the same condition as its searches), written to one NDJSON file per type. A
 * Group's members that are not patients it may see go to the error file. The export is traced
 * in the audit trail once done: its types, counts and patients.
 */
export async function runExport(db: Database, job: Job<ExportParams>, fhirBase: string): Promise<ExportResult> {
  const params = job.params;
  const visibility = await withActors(db, params.visibility);
  let n = 0;
  const errors = new FileWriter(db, job.id, n++, 'error', 'OperationOutcome');
  const problem = (msg: string) => errors.add(JSON.stringify(outcome('error', 'processing', msg) satisfies OperationOutcome));
  let members: string[] | undefined = params.patients;
  if (params.level === 'group') {
    const group = await storeFor('Group').readIfVisible(db, 'Group', params.group as string, visibility);
    if (!group?.content || group.deleted || !group.visible) {
      members = [];
      await problem(`Group/${params.group} is not there, or not yours to read`);
    } else {
      const { patients: ids, others } = groupPatients(JSON.parse(group.content) as Group, fhirBase);
      for (const ref of others) await problem(`Group/${params.group}: the member ${ref} is not a Patient of this server: left out`);
      // `patient` narrows the members (kick-off checked they are members); a member gone since is left out.
      members = params.patients ? ids.filter((id) => params.patients?.includes(id)) : ids;
    }
  }
  /** `_elements` for a type's resources: those named for it and those named without a type. */
  const elementsOf = (type: string) => {
    const names = params.elements && [...(params.elements['*'] ?? []), ...(params.elements[type] ?? [])];
    return names?.length ? names : undefined;
  };
  const provenances = params.provenance
    ? new AssociatedProvenances(db, job.id, n++, fhirBase, visibility, params.provenance, elementsOf('Provenance'))
    : undefined;
  const counts: Record<string, number> = {};
  const patients = new Set<string>();
  const since = params.since ? new Date(params.since) : undefined;
  const deleted = since ? new FileWriter(db, job.id, n++, 'deleted', 'Bundle') : undefined;
  for (const type of params.types) {
    const out = new FileWriter(db, job.id, n++, 'output', type);
    const filters = (params.typeFilters[type] ?? []).map((q) => parseSearch([type], new URLSearchParams(q), true, STORAGES).filters);
    const compartment = compartmentParams('Patient', type);
    for (let last = ''; ; ) {
      const c = compiler(fhirBase, visibility, 'set');
      const where = [matchSql(c, [type], [], 'r'), `r.id > ${c.p.add(last)}`];
      if (filters.length) where.push(`(${filters.map((f) => `(${matchSql(c, [type], f, 'r')})`).join(' OR ')})`);
      if (since) where.push(`r.last_updated > ${c.p.add(since)}`);
      // The patients a row names, by its own index rows (sp_reference_rid: a condition on the type
      // would steer the planner to the index by target). A function: each use binds its own
      // parameters (one unused would be refused).
      const named = compartment
        ? () =>
            `SELECT ax.target_id FROM sp_reference ax WHERE ax.rid = r.rid AND ax.param = ANY(${c.p.add(compartment)}::text[]) AND ax.target_type = 'Patient'`
        : undefined;
      if (params.level !== 'system') {
        // A Patient or Group export: the Patient compartment of those patients (every patient's, for Patient/$export).
        const ids = members ? c.p.add(members) : undefined;
        if (type === 'Patient') {
          if (ids) where.push(`r.id = ANY(${ids}::text[])`);
        } else if (named) where.push(`EXISTS (${named()}${ids ? ` AND ax.target_id = ANY(${ids}::text[])` : ''})`);
        else where.push('false');
      }
      const pats = type === 'Patient' ? 'ARRAY[r.id]' : named ? `ARRAY(${named()})` : `'{}'::text[]`;
      const rows = await db.query<{ id: string; content: string; pats: string[] }>(
        `SELECT r.id, r.content, ${pats} AS pats FROM resource r WHERE ${where.join(' AND ')} ORDER BY r.id LIMIT ${PAGE}`,
        c.p.values,
      );
      const elements = elementsOf(type);
      for (const row of rows) {
        await out.add(elements ? subset(row.content, elements) : row.content);
        for (const p of row.pats) patients.add(p);
      }
      await provenances?.of(
        type,
        rows.map((r) => r.id),
      );
      if (!(await beat(db, job.id, `${type}: ${out.count} resources`))) throw new Cancelled();
      if (rows.length < PAGE) break;
      last = rows[rows.length - 1].id;
    }
    await out.flush();
    if (out.count) counts[type] = out.count;
    if (deleted && since) await listDeleted(db, deleted, type, since, params.level === 'system' ? undefined : (members ?? null), visibility, patients);
  }
  await deleted?.flush();
  if (provenances) {
    await provenances.out.flush();
    if (provenances.out.count) counts.Provenance = provenances.out.count;
  }
  await errors.flush();
  if (params.actor) {
    const record: AccessRecord = {
      actor: params.actor,
      site: fhirBase,
      ...(params.address ? { address: params.address } : {}),
      interaction: 'operation',
      operation: '$export',
      resources: [],
      patients: [...patients],
      query: job.request,
      started: job.created,
      status: 200,
      diagnostics: `Bulk export ${job.id}: ${
        Object.entries(counts)
          .map(([t, k]) => `${t} ${k}`)
          .join(', ') || 'nothing'
      }; ${patients.size} patients`,
    };
    await writeTrail(db, [trailEntry(record)]);
  }
  return { counts, patients: patients.size };
}

/**
 * The manifest's `deleted` file for a `_since` export: the resources of `type` deleted since then
 * that the export would have included, as transaction Bundles of DELETE entries (one line per
 * page). Each is judged on its tombstone, which keeps the patients of the version it deleted
 * (migration 017), as a history read would be. `members`: the patients a Patient or Group
 * export covers (null: every patient's). A deleted resource has no index rows: `_typeFilter`
 * cannot be judged on it, so it is listed whatever the filter (a client deletes what it never
 * had at no cost; it would keep what it should drop otherwise).
 */
async function listDeleted(
  db: Database,
  file: FileWriter,
  type: string,
  since: Date,
  members: string[] | null | undefined,
  visibility: Visibility | null,
  patients: Set<string>,
): Promise<void> {
  const covered = members && new Set(members);
  for (let last = ''; ; ) {
    const p = new SqlParams();
    const where = [`r.type = ${p.add(type)}`, 'r.deleted', `r.last_updated > ${p.add(since)}`, `r.id > ${p.add(last)}`];
    if (visibility) where.push(versionAccessSql(visibility, 'v', type, p, 'set'));
    if (members) where.push(type === 'Patient' ? `r.id = ANY(${p.add(members)}::text[])` : `v.patients && ${p.add(members)}::text[]`);
    else if (members === null) where.push('cardinality(v.patients) > 0');
    const rows = await db.query<{ id: string; patients: string[] }>(
      `SELECT r.id, v.patients FROM resource r JOIN resource_version v ON v.rid = r.rid AND v.version = r.version
        WHERE ${where.join(' AND ')} ORDER BY r.id LIMIT ${PAGE}`,
      p.values,
    );
    if (!rows.length) return;
    const entry = rows.map((r) => ({ request: { method: 'DELETE', url: `${type}/${r.id}` } }));
    await file.add(JSON.stringify({ resourceType: 'Bundle', type: 'transaction', entry }));
    for (const r of rows) for (const patient of r.patients) if (!covered || covered.has(patient)) patients.add(patient);
    if (rows.length < PAGE) return;
    last = rows[rows.length - 1].id;
  }
}

/** A resource with the top-level elements of `_elements` only (and the mandatory ones), tagged SUBSETTED. */
function subset(content: string, elements: string[]): string {
  const resource = parseExact(content) as Resource;
  return stringifyExact(project(resource, { elements }) ?? resource);
}

/**
 * The Provenance file of `includeAssociatedData`: for each page of resources exported, the
 * Provenances that name them as targets (`latest`: the most recent one of each resource), those
 * the rules let the client see, each once, with the `_elements` asked for Provenance.
 */
class AssociatedProvenances {
  readonly out: FileWriter;
  private readonly written = new Set<string>();

  constructor(
    private readonly db: Database,
    job: string,
    n: number,
    private readonly fhirBase: string,
    private readonly visibility: Visibility | null,
    private readonly which: 'latest' | 'relevant',
    private readonly elements: string[] | undefined,
  ) {
    this.out = new FileWriter(db, job, n, 'output', 'Provenance');
  }

  async of(type: string, ids: string[]): Promise<void> {
    if (!ids.length) return;
    const c = compiler(this.fhirBase, this.visibility, 'set');
    const latest = this.which === 'latest';
    const rows = await this.db.query<{ id: string; content: string }>(
      `SELECT ${latest ? 'DISTINCT ON (s.target_id)' : ''} p.id, p.content
         FROM sp_reference s JOIN resource p ON p.rid = s.rid
        WHERE s.type = 'Provenance' AND s.param = 'target' AND s.target_type = ${c.p.add(type)} AND s.target_id = ANY(${c.p.add(ids)}::text[])
          AND ${matchSql(c, ['Provenance'], [], 'p')}
        ORDER BY ${latest ? 's.target_id, p.last_updated DESC, p.id DESC' : 'p.id'}`,
      c.p.values,
    );
    for (const row of rows) {
      if (this.written.has(row.id)) continue;
      this.written.add(row.id);
      await this.out.add(this.elements ? subset(row.content, this.elements) : row.content);
    }
  }
}
