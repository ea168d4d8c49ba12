import { gone, notFound } from '../fhir/outcome.js';
import { readCurrent } from '../store/resources.js';
import { reader, type Context, type FhirRequest, type FhirResponse } from './context.js';
import { notModified } from './versioning.js';

/** GET [type]/[id] */
export async function read(ctx: Context, req: FhirRequest, type: string, id: string): Promise<FhirResponse> {
  const row = await readCurrent(reader(ctx), type, id);
  if (!row) throw notFound(`${type}/${id} is not known`);
  if (row.deleted) throw gone(`${type}/${id} was deleted`);
  const meta = { version: row.version, lastUpdated: row.lastUpdated };
  if (notModified(req, row)) return { status: 304, ...meta };
  return { status: 200, raw: row.content as string, ...meta };
}
