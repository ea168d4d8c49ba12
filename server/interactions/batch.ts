import type { Bundle, BundleEntry, Resource } from '@medplum/fhirtypes';
import { fail, FhirError } from '../fhir/outcome.js';
import type { Dispatch } from '../route.js';
import { entryRequest, entryResponse, errorEntry, processingOrder } from './bundle-entry.js';
import type { Context, FhirRequest, FhirResponse } from './context.js';
import { conditionalResolver, rewriteLinks, type ConditionalResolver } from './references.js';

/** Entries of a batch do not depend on each other (R4 bundle.html): their fullUrls are not resolved. */
const noLocalLinks = () => undefined;

/**
 * A batch: every entry runs on its own, in its own database transaction, and gets its own status
 * and outcome in the batch-response; one failing entry changes nothing for the others.
 */
export async function batch(ctx: Context, req: FhirRequest, bundle: Bundle, dispatch: Dispatch): Promise<FhirResponse> {
  const entries = bundle.entry ?? [];
  const resolve = conditionalResolver(ctx, ctx.db);
  const results = new Array<BundleEntry>(entries.length);
  for (const i of processingOrder(entries)) results[i] = await batchEntry(ctx, req, entries[i], resolve, dispatch);
  return { status: 200, resource: { resourceType: 'Bundle', type: 'batch-response', entry: results } };
}

async function batchEntry(ctx: Context, req: FhirRequest, entry: BundleEntry, resolve: ConditionalResolver, dispatch: Dispatch): Promise<BundleEntry> {
  try {
    const entryReq = entryRequest(ctx, entry, req.prefer);
    // No retry of the whole batch reuses the entry: its resource is rewritten in place.
    if (entryReq.method === 'POST' || entryReq.method === 'PUT') await rewriteLinks(entryReq.body as Resource, noLocalLinks, resolve);
    return entryResponse(ctx, entryReq, await dispatch(ctx, entryReq));
  } catch (err) {
    if (err instanceof FhirError) return errorEntry(err);
    ctx.log.error({ err }, 'batch entry failed');
    return errorEntry(fail(500, 'exception', 'Internal error while processing this entry'));
  }
}
