import type { Group, OperationOutcome } from '@medplum/fhirtypes';
import { withActors } from '../access/visibility.js';
import type { AccessRecord } from '../audit/event.js';
import { trailEntry, writeTrail } from '../audit/trail.js';
import { parseLocalReference } from '../fhir/ids.js';
import { outcome } from '../fhir/outcome.js';
import { compartmentParams } from '../search/compartments.js';
import { parseSearch } from '../search/parse.js';
import { compiler, matchSql } from '../search/sql.js';
import { STORAGES, storeFor } from '../stores/by-type.js';
import type { Database } from '../store/db.js';
import type { ExportParams } from './export-request.js';
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
  let members: string[] | undefined;
  if (params.level === 'group') {
    const group = await storeFor('Group').readIfVisible(db, 'Group', params.group as string, visibility);
    members = [];
    if (!group?.content || group.deleted || !group.visible) await problem(`Group/${params.group} is not there, or not yours to read`);
    else {
      for (const m of (JSON.parse(group.content) as Group).member ?? []) {
        if (m.inactive) continue;
        const ref = m.entity?.reference ? parseLocalReference(m.entity.reference, fhirBase) : undefined;
        if (ref?.type === 'Patient') members.push(ref.id);
        else await problem(`Group/${params.group}: the member ${m.entity?.reference ?? '(no reference)'} is not a Patient of this server: left out`);
      }
    }
  }
  const counts: Record<string, number> = {};
  const patients = new Set<string>();
  const since = params.since ? new Date(params.since) : undefined;
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
      for (const row of rows) {
        await out.add(row.content);
        for (const p of row.pats) patients.add(p);
      }
      if (!(await beat(db, job.id, `${type}: ${out.count} resources`))) throw new Cancelled();
      if (rows.length < PAGE) break;
      last = rows[rows.length - 1].id;
    }
    await out.flush();
    if (out.count) counts[type] = out.count;
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
