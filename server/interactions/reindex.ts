import type { Parameters } from '@medplum/fhirtypes';
import { reindex } from '../search/reindex.js';
import type { Context, FhirResponse } from './context.js';

/**
 * POST [base]/$reindex, POST [base]/[type]/$reindex: rebuilds the search index with the
 * SearchParameters in force (after loading new ones), logging progress; answers the count.
 */
export async function reindexOperation(ctx: Context, type?: string): Promise<FhirResponse> {
  const count = await reindex(ctx.db.maintenance(), ctx.fhirBase, type, (p) => ctx.log.info({ type, ...p }, 'reindexing'));
  const result: Parameters = { resourceType: 'Parameters', parameter: [{ name: 'count', valueInteger: count }] };
  return { status: 200, resource: result };
}
