import type { CodeSystemConceptProperty, ParametersParameter } from '@medplum/fhirtypes';
import { badRequest } from '../fhir/outcome.js';
import { reader, type Context, type FhirRequest, type FhirResponse } from '../interactions/context.js';
import { lookup } from '../terminology/api.js';
import { operationInput, outputParameters } from './parameters.js';
import { codeSystemOf } from './stored.js';

/** The value of a concept property as a Parameters part. */
const propertyValue = (p: CodeSystemConceptProperty): ParametersParameter => {
  const { code: _code, ...value } = p;
  return { name: 'value', ...value } as ParametersParameter;
};

/**
 * CodeSystem/$lookup and CodeSystem/[id]/$lookup, GET or POST: name, version, display,
 * designations and properties (status, inactive, parent and child codes, and the code system's
 * own), or those named by `property`.
 */
export async function lookupOperation(ctx: Context, req: FhirRequest, id?: string): Promise<FhirResponse> {
  const input = operationInput(req);
  const coding = input.coding('coding');
  const code = input.string('code') ?? coding?.code;
  if (!code) throw badRequest('$lookup needs a code (with its system) or a coding');
  const { system, version } = await codeSystemOf(ctx, input, id, coding?.system);
  const { system: cs, concept } = await lookup(reader(ctx), system, code, version);
  const asked = new Set(input.strings('property'));
  const wanted = (name: string) => !asked.size || asked.has(name);
  const property = (name: string, value: Omit<ParametersParameter, 'name'>): ParametersParameter | undefined =>
    wanted(name)
      ? {
          name: 'property',
          part: [
            { name: 'code', valueCode: name },
            { name: 'value', ...value },
          ],
        }
      : undefined;
  return {
    status: 200,
    resource: outputParameters([
      { name: 'name', valueString: cs.title ?? cs.name ?? cs.url },
      cs.version ? { name: 'version', valueString: cs.version } : undefined,
      concept.display !== undefined ? { name: 'display', valueString: concept.display } : undefined,
      concept.definition !== undefined ? { name: 'definition', valueString: concept.definition } : undefined,
      ...concept.designations.map((d) => ({
        name: 'designation',
        part: [
          ...(d.language ? [{ name: 'language', valueCode: d.language }] : []),
          ...(d.use ? [{ name: 'use', valueCoding: d.use }] : []),
          { name: 'value', valueString: d.value },
        ],
      })),
      property('inactive', { valueBoolean: concept.inactive }),
      ...concept.parents.map((p) => property('parent', { valueCode: p })),
      ...concept.children.map((c) => property('child', { valueCode: c })),
      ...concept.properties
        .filter((p) => wanted(p.code as string) && p.code !== 'parent')
        .map((p) => ({ name: 'property', part: [{ name: 'code', valueCode: p.code }, propertyValue(p)] })),
    ]),
  };
}
