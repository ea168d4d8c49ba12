import type { CodeSystem, Resource } from '@medplum/fhirtypes';
import { badRequest, gone, notFound } from '../fhir/outcome.js';
import { reader, type Context } from '../interactions/context.js';
import { readCurrent } from '../store/resources.js';
import type { OperationInput } from './parameters.js';
import { parseExact } from '../fhir/exact-json.js';

/** The current version of the resource an instance-level operation runs on: 404 or 410 otherwise. */
export async function storedResource<T extends Resource>(ctx: Context, type: T['resourceType'], id: string): Promise<T> {
  const row = await readCurrent(reader(ctx), type, id);
  if (!row) throw notFound(`${type}/${id} is not known`);
  if (row.deleted) throw gone(`${type}/${id} was deleted`);
  return parseExact(row.content as string) as T;
}

/** The code system an operation names: the instance's, or `system` (with `version`), or a coding's. */
export async function codeSystemOf(ctx: Context, input: OperationInput, id: string | undefined, codingSystem?: string) {
  const stored = id ? await storedResource<CodeSystem>(ctx, 'CodeSystem', id) : undefined;
  const system = stored?.url ?? input.string('system') ?? codingSystem;
  if (!system) throw badRequest('The operation needs the system of the code');
  if (codingSystem && codingSystem !== system) throw badRequest(`The coding's system ${codingSystem} is not ${system}`);
  return { system, version: stored?.version ?? input.string('version') };
}
