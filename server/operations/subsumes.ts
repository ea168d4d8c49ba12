import { badRequest } from '../fhir/outcome.js';
import { reader, type Context, type FhirRequest, type FhirResponse } from '../interactions/context.js';
import { subsumes } from '../terminology/api.js';
import { operationInput, outputParameters } from './parameters.js';
import { codeSystemOf } from './stored.js';

/** CodeSystem/$subsumes and CodeSystem/[id]/$subsumes, GET or POST: codeA and codeB, or codingA and codingB. */
export async function subsumesOperation(ctx: Context, req: FhirRequest, id?: string): Promise<FhirResponse> {
  const input = operationInput(req);
  const codingA = input.coding('codingA');
  const codingB = input.coding('codingB');
  const codeA = input.string('codeA') ?? codingA?.code;
  const codeB = input.string('codeB') ?? codingB?.code;
  if (!codeA || !codeB) throw badRequest('$subsumes needs codeA and codeB (with system), or codingA and codingB');
  if (codingA?.system && codingB?.system && codingA.system !== codingB.system) {
    throw badRequest('codingA and codingB are from different code systems');
  }
  const { system, version } = await codeSystemOf(ctx, input, id, codingA?.system ?? codingB?.system);
  const outcome = await subsumes(reader(ctx), system, codeA, codeB, version);
  return { status: 200, resource: outputParameters([{ name: 'outcome', valueCode: outcome }]) };
}
