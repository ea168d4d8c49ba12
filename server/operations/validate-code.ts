import type { CodeSystem, Coding, ValueSet } from '@medplum/fhirtypes';
import { badRequest } from '../fhir/outcome.js';
import { reader, type Context, type FhirRequest, type FhirResponse } from '../interactions/context.js';
import { validateCode, validateCodeInDefinition, validateCodeInSystem, type CodeValidation } from '../terminology/api.js';
import { operationInput, outputParameters, type OperationInput } from './parameters.js';
import { storedResource } from './stored.js';

/** The codings to check: `code` (with `system`), a `coding`, or every coding of a `codeableConcept`. */
function codingsOf(input: OperationInput, systemParam: string): Coding[] {
  const code = input.string('code');
  if (code !== undefined) return [{ system: input.string(systemParam), code, display: input.string('display') }];
  const coding = input.coding('coding');
  if (coding) return [coding];
  const concept = input.codeableConcept('codeableConcept');
  if (concept?.coding?.length) return concept.coding;
  throw badRequest('$validate-code needs a code, a coding or a codeableConcept');
}

/** One answer for several codings: valid if one is; the messages of all. */
function answer(results: CodeValidation[]): FhirResponse {
  const valid = results.find((r) => r.result);
  const messages = [...new Set(results.map((r) => r.message).filter(Boolean))];
  const display = (valid ?? results.find((r) => r.display))?.display;
  return {
    status: 200,
    resource: outputParameters([
      { name: 'result', valueBoolean: !!valid },
      messages.length ? { name: 'message', valueString: messages.join('; ') } : undefined,
      display !== undefined ? { name: 'display', valueString: display } : undefined,
    ]),
  };
}

/** ValueSet/$validate-code and ValueSet/[id]/$validate-code, GET or POST. */
export async function validateCodeInValueSetOperation(ctx: Context, req: FhirRequest, id?: string): Promise<FhirResponse> {
  const input = operationInput(req);
  const q = reader(ctx);
  const codings = codingsOf(input, 'system');
  const given = id ? await storedResource<ValueSet>(ctx, 'ValueSet', id) : input.resource<ValueSet>('valueSet', 'ValueSet');
  const url = given?.url ?? input.string('url');
  const version = given?.version ?? input.string('valueSetVersion');
  if (!url && !given) throw badRequest('$validate-code needs the url of a value set, or a valueSet');
  const check = (c: Coding) => {
    if (!c.code) throw badRequest('A coding to validate has no code');
    if (given && (!id || !given.url)) return validateCodeInDefinition(q, given, c.system, c.code, c.display);
    return validateCode(q, version && !url?.includes('|') ? `${url}|${version}` : (url as string), c.system, c.code, c.display);
  };
  return answer(await Promise.all(codings.map(check)));
}

/** CodeSystem/$validate-code and CodeSystem/[id]/$validate-code, GET or POST. */
export async function validateCodeInSystemOperation(ctx: Context, req: FhirRequest, id?: string): Promise<FhirResponse> {
  const input = operationInput(req);
  const stored = id ? await storedResource<CodeSystem>(ctx, 'CodeSystem', id) : undefined;
  const url = stored?.url ?? input.string('url');
  const version = stored?.version ?? input.string('version');
  const codings = codingsOf(input, 'url').map((c) => ({ ...c, system: c.system ?? url }));
  if (!url && codings.some((c) => !c.system)) throw badRequest('$validate-code needs the url of a code system');
  const check = (c: Coding) => {
    if (!c.code) throw badRequest('A coding to validate has no code');
    if (url && c.system !== url) return { result: false, known: true, message: `${c.system} is not the code system ${url}` };
    return validateCodeInSystem(reader(ctx), c.system as string, c.code, version, c.display);
  };
  return answer(await Promise.all(codings.map(check)));
}
