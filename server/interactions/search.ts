import type { Bundle, BundleEntry, Resource } from '@medplum/fhirtypes';
import { notFound, outcome } from '../fhir/outcome.js';
import { project } from '../fhir/projection.js';
import { syncSearchParametersForSearch } from '../search/loaded-params.js';
import { parseSearch, type CompartmentTarget } from '../search/parse.js';
import type { StoredVersion } from '../store/resources.js';
import { searchedStore, STORAGES } from '../stores/by-type.js';
import { isResourceType } from '../validation/registry.js';
import { visibilityOf } from '../access/principal.js';
import { link } from './bundle-links.js';
import { searchRewrites } from './search-hooks.js';
import { reader, type Context, type FhirRequest, type FhirResponse } from './context.js';
import { parseExact, stringifyExact } from '../fhir/exact-json.js';

/**
 * GET [type]?…, POST [type]/_search (form body), system search GET [base]?…, and compartment
 * search GET Patient/[id]/[type]?… . The self link lists only the parameters applied; ignored
 * ones are reported in an OperationOutcome entry (lenient handling) or refused with 400
 * (Prefer: handling=strict).
 */
export async function search(ctx: Context, req: FhirRequest, type?: string, compartment?: CompartmentTarget): Promise<FhirResponse> {
  if (type && !isResourceType(type)) throw notFound(`Unknown resource type: ${type}`);
  let query = new URLSearchParams(req.query);
  if (req.method === 'POST' && typeof req.body === 'string') {
    for (const [k, v] of new URLSearchParams(req.body)) query.append(k, v);
  }
  for (const rewrite of searchRewrites()) query = rewrite(ctx, type, query);
  const q = reader(ctx);
  await syncSearchParametersForSearch(q);
  const parsed = parseSearch(type ? [type] : [], query, req.prefer.handling === 'strict', STORAGES, compartment);
  const result = await searchedStore(parsed.types).search(q, parsed, ctx.fhirBase, await visibilityOf(ctx));

  const path = compartment ? `${compartment.type}/${compartment.id}/${type}` : type;
  const url = path ? `${ctx.fhirBase}/${path}` : ctx.fhirBase;
  const links = [link('self', url, parsed.applied)];
  if (result.next) links.push(link('next', url, [...parsed.applied, ['_cursor', result.next]]));
  if (result.previous) links.push(link('previous', url, [...parsed.applied, ['_cursor', result.previous]]));
  // The page is written as text: a stored resource goes in as stored, unless _summary or
  // _elements cut it (parsing and writing back every entry cost more than the search itself).
  const resourceText = (row: StoredVersion): string => {
    if (!parsed.summary && !parsed.elements) return row.content as string;
    const resource = parseExact(row.content as string) as Resource;
    return stringifyExact(project(resource, parsed) ?? resource);
  };
  const entry = (row: StoredVersion, mode: 'match' | 'include') =>
    `{"fullUrl":${JSON.stringify(`${ctx.fhirBase}/${row.type}/${row.id}`)},"resource":${resourceText(row)},"search":{"mode":"${mode}"}}`;
  const entries = [...result.matches.map((m) => entry(m, 'match')), ...result.included.map((m) => entry(m, 'include'))];
  if (parsed.ignored.length) {
    const warning: BundleEntry = {
      resource: outcome('warning', 'not-supported', `Ignored search parameters: ${parsed.ignored.join('; ')}`),
      search: { mode: 'outcome' },
    };
    entries.push(JSON.stringify(warning));
  }
  const head: Bundle = {
    resourceType: 'Bundle',
    type: 'searchset',
    ...(result.total !== undefined ? { total: result.total } : {}),
    link: links,
  };
  return { status: 200, raw: `${JSON.stringify(head).slice(0, -1)},"entry":[${entries.join(',')}]}` };
}
