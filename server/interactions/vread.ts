import { gone, notFound } from '../fhir/outcome.js';
import { storeFor } from '../stores/by-type.js';
import { versionRules } from '../access/versions.js';
import { hiddenFromCaller } from '../access/visibility.js';
import { reader, type Context, type FhirResponse } from './context.js';

/**
 * GET [type]/[id]/_history/[vid]. The version must be one the caller may see, on the patients it
 * names (a tombstone: those of the version it deleted); else 403, as for a read: it exists (its
 * équipe reads it), outside the caller's reach. Where a resource has one version, the guard
 * judged it as a read.
 */
export async function vread(ctx: Context, type: string, id: string, vid: string): Promise<FhirResponse> {
  const version = /^\d{1,9}$/.test(vid) ? Number(vid) : NaN;
  const store = storeFor(type);
  const visible = store.judgesVersions ? await versionRules(ctx, type, 'r', 'probe') : undefined;
  const row = Number.isNaN(version) ? undefined : await store.version(reader(ctx), type, id, version, visible);
  if (!row) throw notFound(`${type}/${id} has no version ${vid}`);
  if (!row.visible) throw hiddenFromCaller(type, `${type}/${id} version ${vid}`);
  if (row.deleted) throw gone(`${type}/${id} version ${vid} is a deletion`);
  return { status: 200, raw: row.content as string, version: row.version, lastUpdated: row.lastUpdated };
}
