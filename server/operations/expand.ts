import type { ValueSet } from '@medplum/fhirtypes';
import { badRequest } from '../fhir/outcome.js';
import { reader, type Context, type FhirRequest, type FhirResponse } from '../interactions/context.js';
import { expand } from '../terminology/api.js';
import { operationInput } from './parameters.js';
import { storedResource } from './stored.js';

/**
 * ValueSet/$expand (url and valueSetVersion, or a valueSet in the body) and ValueSet/[id]/$expand,
 * GET or POST: with `filter` for type-ahead, `count`/`offset` paging, `displayLanguage`,
 * `activeOnly`, `includeDesignations`.
 */
export async function expandOperation(ctx: Context, req: FhirRequest, id?: string): Promise<FhirResponse> {
  const input = operationInput(req);
  let valueSet: string | ValueSet;
  if (id) {
    const stored = await storedResource<ValueSet>(ctx, 'ValueSet', id);
    // By its canonical when it has one: the compiled expansion is then shared and kept.
    valueSet = stored.url ? `${stored.url}${stored.version ? `|${stored.version}` : ''}` : stored;
  } else {
    const given = input.resource<ValueSet>('valueSet', 'ValueSet');
    const url = input.string('url');
    if (!given && !url) throw badRequest('$expand needs the url of a value set, or a valueSet');
    const version = input.string('valueSetVersion');
    valueSet = given ?? (version && !url?.includes('|') ? `${url}|${version}` : (url as string));
  }
  const result = await expand(reader(ctx), valueSet, {
    filter: input.string('filter'),
    count: input.integer('count'),
    offset: input.integer('offset'),
    displayLanguage: input.string('displayLanguage'),
    activeOnly: input.boolean('activeOnly'),
    includeDesignations: input.boolean('includeDesignations'),
  });
  return { status: 200, resource: result };
}
