import type { OperationOutcome, OperationOutcomeIssue, Parameters, Resource } from '@medplum/fhirtypes';
import { badRequest, FhirError, notFound } from '../fhir/outcome.js';
import { storeFor } from '../stores/by-type.js';
import { reader, type Context, type FhirRequest, type FhirResponse } from '../interactions/context.js';
import { conformanceIssues } from '../validation/conformance.js';
import { policyOf } from '../validation/policy.js';
import { validateBase } from '../validation/validate.js';

const MODES = new Set(['create', 'update', 'delete']);

/**
 * $validate (resource-operation-validate): `POST [type]/$validate` and `[type]/[id]/$validate`
 * (GET validates the stored version), with `profile` and `mode` in the query or a Parameters body.
 * The answer is an OperationOutcome with every issue, status 200 whatever it finds.
 */
export async function validateOperation(ctx: Context, req: FhirRequest, type: string, id?: string): Promise<FhirResponse> {
  const body = req.body as Resource | undefined;
  const params = isOperationParameters(type, body) ? ((body as Parameters).parameter ?? []) : [];
  const param = (name: string) =>
    req.query.get(name) ??
    params.find((p) => p.name === name)?.valueUri ??
    params.find((p) => p.name === name)?.valueCode ??
    params.find((p) => p.name === name)?.valueCanonical;
  const mode = param('mode');
  if (mode && !MODES.has(mode)) throw badRequest(`mode must be create, update or delete, not ${mode}`);
  const profile = param('profile');
  let resource: Resource | undefined = isOperationParameters(type, body) ? params.find((p) => p.name === 'resource')?.resource : body;
  if (id && (!resource || mode === 'delete')) {
    const stored = await storeFor(type).read(reader(ctx), type, id);
    if (!stored || stored.deleted) throw notFound(`${type}/${id} is not known`);
    resource = JSON.parse(stored.content as string) as Resource;
  }
  if (mode === 'delete')
    return answer([{ severity: 'information', code: 'informational', details: { text: `Nothing keeps ${type}/${id ?? ''} from being deleted` } }]);
  if (!resource) throw badRequest('Give the resource to validate: as the body, or as the `resource` parameter');
  if (resource.resourceType !== type) throw badRequest(`The resource is a ${resource.resourceType}, not a ${type}`);
  if (mode === 'update' && !resource.id)
    return answer([{ severity: 'error', code: 'required', details: { text: 'An update needs the id of the resource' }, expression: ['id'] }]);
  let issues: OperationOutcomeIssue[];
  try {
    issues = validateBase(resource);
  } catch (err) {
    if (!(err instanceof FhirError)) throw err;
    issues = err.outcome.issue ?? [];
  }
  const request = { policy: policyOf(ctx.db), asReferenceValidator: true, ...(profile ? { profiles: [profile] } : {}) };
  issues = [...issues, ...(await conformanceIssues(ctx.db, reader(ctx), ctx.fhirBase, resource, request))];
  return answer(issues);
}

const OPERATION_PARAMETERS = new Set(['resource', 'mode', 'profile']);

/**
 * Whether a Parameters body holds the operation's parameters rather than being the resource to
 * validate: always, but at Parameters/$validate, where it is the operation's only when it has
 * nothing but those parameters and its `resource` is itself a Parameters.
 */
function isOperationParameters(type: string, body: Resource | undefined): boolean {
  if (body?.resourceType !== 'Parameters') return false;
  if (type !== 'Parameters') return true;
  const params = Array.isArray((body as Parameters).parameter) ? ((body as Parameters).parameter ?? []) : [];
  return params.every((p) => OPERATION_PARAMETERS.has(p?.name)) && params.some((p) => p?.name === 'resource' && p.resource?.resourceType === 'Parameters');
}

function answer(issues: OperationOutcomeIssue[]): FhirResponse {
  const outcome: OperationOutcome = {
    resourceType: 'OperationOutcome',
    issue: issues.length ? issues : [{ severity: 'information', code: 'informational', details: { text: 'No issue found' } }],
  };
  return { status: 200, resource: outcome };
}
