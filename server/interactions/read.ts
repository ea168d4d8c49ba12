import { gone, notFound } from '../fhir/outcome.js';
import type { StoredVersion } from '../store/resources.js';
import { storeFor } from '../stores/by-type.js';
import { reader, type Context, type FhirRequest, type FhirResponse } from './context.js';
import { notModified } from './versioning.js';

/** GET [type]/[id] */
export async function read(ctx: Context, req: FhirRequest, type: string, id: string): Promise<FhirResponse> {
  return readResponse(req, type, id, await storeFor(type).read(reader(ctx), type, id));
}

/** The response to a read of the current row `row` (undefined: none) of `type/id`. */
export function readResponse(req: FhirRequest, type: string, id: string, row: StoredVersion | undefined): FhirResponse {
  if (!row) throw notFound(`${type}/${id} is not known`);
  if (row.deleted) throw gone(`${type}/${id} was deleted`);
  const meta = { version: row.version, lastUpdated: row.lastUpdated };
  if (notModified(req, row)) return { status: 304, ...meta };
  return { status: 200, raw: row.content as string, ...meta };
}
