import jsonpatch from 'fast-json-patch';
import type { Resource } from '@medplum/fhirtypes';
import { badRequest, FhirError, gone, notFound, notSupported, unprocessable } from '../fhir/outcome.js';
import { readCurrent, type StoredVersion } from '../store/resources.js';
import type { Queryable } from '../store/db.js';
import { inTransaction, type Context, type FhirRequest, type FhirResponse } from './context.js';
import { findSingleMatch } from './conditional.js';
import { checkIfMatch } from './versioning.js';
import { checkResourceBody, persist, writeResponse } from './write.js';
import { enforceConformance } from '../validation/conformance.js';
import { parseExact } from '../fhir/exact-json.js';

export const PATCH_FORMATS = ['application/json-patch+json'];

/** PATCH [type]/[id] with a JSON Patch (RFC 6902) document. */
export async function patch(ctx: Context, req: FhirRequest, type: string, id: string): Promise<FhirResponse> {
  const operations = checkPatchBody(req);
  return inTransaction(ctx, async (tx) => applyTo(ctx, tx, req, await readCurrent(tx, type, id, true), type, id, operations));
}

/** PATCH [type]?criteria: patch the one match. */
export async function conditionalPatch(ctx: Context, req: FhirRequest, type: string): Promise<FhirResponse> {
  const operations = checkPatchBody(req);
  return inTransaction(ctx, async (tx) => {
    const match = await findSingleMatch(ctx, tx, type, req.query);
    if (!match) throw notFound(`No ${type} matches ${req.query}`);
    return applyTo(ctx, tx, req, await readCurrent(tx, type, match.id, true), type, match.id, operations);
  });
}

function checkPatchBody(req: FhirRequest): jsonpatch.Operation[] {
  if (!req.contentType || !PATCH_FORMATS.includes(req.contentType)) {
    throw notSupported(415, `PATCH takes ${PATCH_FORMATS.join(' or ')}, not ${req.contentType ?? 'a body without Content-Type'}`);
  }
  if (!Array.isArray(req.body)) throw badRequest('A JSON Patch document is an array of operations');
  const error = jsonpatch.validate(req.body as jsonpatch.Operation[]);
  if (error) throw badRequest(`Invalid JSON Patch: ${error.message.split('\n')[0]}`);
  return req.body as jsonpatch.Operation[];
}

async function applyTo(
  ctx: Context,
  tx: Queryable,
  req: FhirRequest,
  current: StoredVersion | undefined,
  type: string,
  id: string,
  operations: jsonpatch.Operation[],
): Promise<FhirResponse> {
  if (!current) throw notFound(`${type}/${id} is not known`);
  if (current.deleted) throw gone(`${type}/${id} was deleted`);
  checkIfMatch(req, current);
  let patched: Resource;
  try {
    patched = jsonpatch.applyPatch(parseExact(current.content as string), operations, true, true).newDocument as Resource;
  } catch (err) {
    throw unprocessable(`The patch does not apply: ${(err as Error).message.split('\n')[0]}`);
  }
  if (patched?.resourceType !== type || patched.id !== id) throw unprocessable('A patch may not change resourceType or id');
  try {
    checkResourceBody(type, patched);
  } catch (err) {
    // The document was well formed but its result is not a valid resource: 422, as the spec asks.
    if (err instanceof FhirError) throw new FhirError(422, err.outcome);
    throw err;
  }
  await enforceConformance(ctx.db, tx, ctx.fhirBase, patched);
  return writeResponse(ctx, 200, await persist(ctx, tx, current, { type, id }, patched, 'PATCH'));
}
