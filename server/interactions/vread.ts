import { gone, notFound } from '../fhir/outcome.js';
import { readVersion } from '../store/resources.js';
import { reader, type Context, type FhirResponse } from './context.js';

/** GET [type]/[id]/_history/[vid] */
export async function vread(ctx: Context, type: string, id: string, vid: string): Promise<FhirResponse> {
  const version = /^\d{1,9}$/.test(vid) ? Number(vid) : NaN;
  const row = Number.isNaN(version) ? undefined : await readVersion(reader(ctx), type, id, version);
  if (!row) throw notFound(`${type}/${id} has no version ${vid}`);
  if (row.deleted) throw gone(`${type}/${id} version ${vid} is a deletion`);
  return { status: 200, raw: row.content as string, version: row.version, lastUpdated: row.lastUpdated };
}
