import type { Patient, Provenance, Resource } from '@medplum/fhirtypes';
import { careLinks } from '../access/care-links.js';
import { recordId } from '../fhir/ids.js';
import { badRequest } from '../fhir/outcome.js';
import { namedPatients } from '../search/compartments.js';
import { extractIndex } from '../search/extract.js';
import { searchParametersChanged, syncSearchParametersOnce } from '../search/loaded-params.js';
import { signalWrite } from '../store/change-signals.js';
import type { Queryable } from '../store/db.js';
import { createVersions, writeVersion, type NewVersion, type StoredVersion } from '../store/resources.js';
import { checkExpressionCost } from '../validation/expression-cost.js';
import { checkIdentity } from '../validation/identity.js';
import { validateBase } from '../validation/validate.js';
import type { Context, FhirResponse } from './context.js';
import { writeHooks, type HookedWrite, type WriteContext } from './write-hooks.js';
import { stringifyExact } from '../fhir/exact-json.js';

/** Checks a request body is a resource of the expected type, valid against its base definition. */
export function checkResourceBody(type: string, body: unknown): Resource {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw badRequest('The body must be a FHIR resource (a JSON object)');
  }
  const resourceType = (body as { resourceType?: unknown }).resourceType;
  if (resourceType !== type) {
    throw badRequest(`The body's resourceType (${String(resourceType)}) does not match the URL (${type})`, ['resourceType']);
  }
  validateBase(body as Resource);
  return body as Resource;
}

/**
 * Writes the next version of a resource (or its tombstone when `resource` is null): server-managed
 * meta (versionId, lastUpdated), history, search index and care links, inside the caller's
 * transaction. A Patient's identity, the caller's right to write the version (ctx.checkWrite) and
 * the cost of a definition's expressions are checked here, whichever interaction (or package) writes it,
 * and the write hooks (write-hooks.ts) run. `previous` must have been read FOR UPDATE in that transaction.
 */
export async function persist(
  ctx: WriteContext,
  tx: Queryable,
  previous: StoredVersion | undefined,
  target: { type: string; id: string },
  given: Resource | null,
  method: NewVersion['method'],
): Promise<{ stored: StoredVersion; resource?: Resource }> {
  const w: HookedWrite = {
    tx,
    ctx,
    target,
    previous,
    write: (other, resource, otherMethod, otherPrevious) => persist({ fhirBase: ctx.fhirBase }, tx, otherPrevious, other, resource, otherMethod),
  };
  const hooks = writeHooks();
  // What each hook's prepare was given, for its `stored`.
  const prepared: (Resource | null)[] = [];
  let resource = given;
  for (const hook of hooks) {
    prepared.push(resource);
    if (hook.prepare) resource = await hook.prepare(w, resource);
  }
  const version = (previous?.version ?? 0) + 1;
  // lastUpdated strictly increases along a resource's versions, even within one millisecond.
  const lastUpdated = new Date(Math.max(Date.now(), previous ? previous.lastUpdated.getTime() + 1 : 0));
  const stored = resource ? withMeta(resource, target.id, version, lastUpdated) : undefined;
  await ctx.checkWrite?.(tx, previous, stored ?? null);
  if (stored?.resourceType === 'Patient') checkIdentity(stored as Patient, !!ctx.testIdentities);
  // A definition the server will evaluate is refused if its regular expressions may backtrack without end.
  if (stored) checkExpressionCost(stored);
  for (const hook of hooks) await hook.check?.(w, resource, stored ?? null);
  // Index with every SearchParameter in force, including those another process just loaded.
  if (stored) await syncSearchParametersOnce(tx);
  const index = stored ? extractIndex(stored, ctx.fhirBase) : null;
  const row = await writeVersion(
    tx,
    previous,
    {
      type: target.type,
      id: target.id,
      version,
      lastUpdated,
      method,
      content: stored ? stringifyExact(stored) : null,
      patients: index ? namedPatients(target.type, target.id, index) : [],
    },
    index,
    careLinks(stored ?? null, target.type, ctx.fhirBase),
  );
  ctx.written?.add(target.type);
  for (const [i, hook] of hooks.entries()) await hook.stored?.(w, stored ?? null, prepared[i]);
  // The caches that follow this type look again (store/change-signals.ts).
  signalWrite(target.type);
  if (target.type === 'SearchParameter') searchParametersChanged(tx);
  return { stored: row, resource: stored };
}

/**
 * Writes the records the server keeps of its own accord (the Provenances of writes), new
 * resources with generated ids, all in one statement.
 */
export async function persistRecords(ctx: Pick<Context, 'fhirBase'>, tx: Queryable, records: Provenance[]): Promise<void> {
  if (!records.length) return;
  await syncSearchParametersOnce(tx);
  const lastUpdated = new Date();
  await createVersions(
    tx,
    records.map((record) => {
      // Time-ordered ids: each goes to the end of the (type, id) index, where a random one dirtied a
      // page of its own (a full-page image in the WAL after each checkpoint). A record's time is
      // no secret: it is in the record.
      const stored = withMeta(record, recordId(), 1, lastUpdated);
      const index = extractIndex(stored, ctx.fhirBase);
      const id = stored.id as string;
      const patients = namedPatients(record.resourceType, id, index);
      return { version: { type: record.resourceType, id, version: 1, lastUpdated, method: 'POST' as const, content: stringifyExact(stored), patients }, index };
    }),
  );
}

/** The resource as stored: its id, and the server's meta for this version. */
function withMeta(resource: Resource, id: string, version: number, lastUpdated: Date): Resource {
  const { resourceType, id: _ignored, meta, ...rest } = resource;
  return { resourceType, id, meta: { ...meta, versionId: String(version), lastUpdated: lastUpdated.toISOString() }, ...rest } as Resource;
}

/** The response to a successful write: Location of the new version, ETag, Last-Modified, body. */
export function writeResponse(ctx: Context, status: number, written: { stored: StoredVersion; resource?: Resource }): FhirResponse {
  const { type, id, version, lastUpdated } = written.stored;
  return {
    status,
    resource: written.resource,
    version,
    lastUpdated,
    location: `${ctx.fhirBase}/${type}/${id}/_history/${version}`,
  };
}
