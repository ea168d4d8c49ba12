import type { Bundle } from '@medplum/fhirtypes';
import { badRequest } from '../fhir/outcome.js';
import { beyondLimit, limits } from '../limits.js';
import type { Dispatch } from '../route.js';
import { batch } from './batch.js';
import type { Context, FhirRequest, FhirResponse } from './context.js';
import { transaction } from './transaction.js';

/** POST [base]: a Bundle of type batch or transaction (R4 http.html#transaction). */
export function processBundle(ctx: Context, req: FhirRequest, dispatch: Dispatch): Promise<FhirResponse> {
  const bundle = req.body as Bundle | undefined;
  if (typeof bundle !== 'object' || bundle === null || Array.isArray(bundle) || bundle.resourceType !== 'Bundle') {
    throw badRequest('POST to the base takes a Bundle of type batch or transaction');
  }
  if (bundle.entry !== undefined && !Array.isArray(bundle.entry)) throw badRequest('Bundle.entry must be an array', ['Bundle.entry']);
  // Every entry of a transaction runs in one database transaction: its size is bounded.
  if ((bundle.entry?.length ?? 0) > limits().bundleEntries) throw beyondLimit('bundleEntries', `Too many entries in the ${String(bundle.type)} Bundle`, 413);
  if (bundle.type === 'transaction') return transaction(ctx, req, bundle, dispatch);
  if (bundle.type === 'batch') return batch(ctx, req, bundle, dispatch);
  throw badRequest(
    `A Bundle of type ${String(bundle.type)} is not processed at the base: post a batch or transaction here, or store the Bundle with POST [base]/Bundle`,
    ['Bundle.type'],
  );
}
