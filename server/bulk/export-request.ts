import type { Parameters } from '@medplum/fhirtypes';
import { visibilityFor } from '../access/principal.js';
import { restrictionsFor, unrestricted } from '../access/restrictions.js';
import { NO_RULES, type AccessRules } from '../access/rules.js';
import { isPatientData, type Visibility } from '../access/visibility.js';
import { actorOf, type Actor } from '../audit/event.js';
import type { Access } from '../auth/tokens.js';
import { badRequest, fail, FhirError } from '../fhir/outcome.js';
import type { Prefer } from '../interactions/context.js';
import { parseSearch } from '../search/parse.js';
import { STORAGES, storeFor } from '../stores/by-type.js';
import { isResourceType, resourceTypes } from '../validation/registry.js';

/** What an export job does, as kept with it: enough for any process to run it later. */
export interface ExportParams {
  level: 'system' | 'patient' | 'group';
  group?: string;
  /** The types exported, in order. */
  types: string[];
  /** Only resources changed after this instant (ISO). */
  since?: string;
  /** Per type, the search queries one of which a resource must match (_typeFilter). */
  typeFilters: Record<string, string[]>;
  /** Whom the équipe-de-soins rules show data to (null: no rule applies), as the token said at kick-off. */
  visibility: Visibility | null;
  /** Who asked (traced in the audit trail). */
  actor?: Actor;
  address?: string;
}

/** What /metadata says of bulk data: the IG's CapabilityStatement, and its export operations where they are served. */
export const BULK_CAPABILITIES = {
  instantiates: ['http://hl7.org/fhir/uv/bulkdata/CapabilityStatement/bulk-data'],
  operations: [
    { name: 'export', definition: 'http://hl7.org/fhir/uv/bulkdata/OperationDefinition/export' },
    { name: 'export', definition: 'http://hl7.org/fhir/uv/bulkdata/OperationDefinition/patient-export', types: ['Patient'] },
    { name: 'export', definition: 'http://hl7.org/fhir/uv/bulkdata/OperationDefinition/group-export', types: ['Group'] },
  ],
};

export const OUTPUT_FORMATS = new Set(['application/fhir+ndjson', 'application/ndjson', 'ndjson']);

/** The kick-off's parameters, from the query (GET) or a Parameters body (POST), as name → values. */
export function kickOffParams(query: URLSearchParams, body: unknown): Map<string, string[]> {
  const out = new Map<string, string[]>();
  const add = (name: string, value: string) => out.set(name, [...(out.get(name) ?? []), value]);
  for (const [k, v] of query) if (k !== '_format' && k !== '_pretty') add(k, v);
  const params = body as Parameters | undefined;
  if (params?.resourceType === 'Parameters') {
    for (const p of params.parameter ?? []) {
      const value = p.valueString ?? p.valueInstant ?? p.valueCode ?? p.valueUri ?? p.valueReference?.reference ?? p.valueBoolean?.toString();
      if (p.name && value !== undefined) add(p.name, value);
    }
  } else if (body !== undefined) {
    throw badRequest('The body of an $export kick-off must be a Parameters resource');
  }
  return out;
}

/** The types kept in the resource tables (the audit trail is exported by no one). */
const exportableTypes = () => resourceTypes().filter((t) => !storeFor(t).types);

/**
 * Splits a _typeFilter value into its queries: `Type?query` items separated by commas (a comma
 * inside a query, an OR of values, is followed by no `Type?`).
 */
function typeFilterQueries(values: string[]): string[] {
  return values.flatMap((v) => v.split(/,(?=[A-Z][A-Za-z]+\?)/)).filter(Boolean);
}

/**
 * The export a kick-off asks for, checked: parameters the server does not support refused (400)
 * unless `Prefer: handling=lenient`; the types limited to those the token reads and searches
 * without restriction (one asked for beyond them: 403). Patient and Group exports are of the
 * Patient compartment's types.
 */
export function exportParams(
  level: ExportParams['level'],
  params: Map<string, string[]>,
  prefer: Prefer,
  access: Access | undefined,
  rules: AccessRules | undefined,
  group?: string,
): ExportParams {
  const one = (name: string) => params.get(name)?.[params.get(name)!.length - 1];
  const lenient = prefer.handling === 'lenient';
  for (const name of params.keys()) {
    if (!['_outputFormat', '_since', '_type', '_typeFilter'].includes(name) && !lenient) {
      throw fail(400, 'not-supported', `The $export parameter ${name} is not supported (Prefer: handling=lenient to ignore it)`);
    }
  }
  const format = one('_outputFormat');
  if (format !== undefined && !OUTPUT_FORMATS.has(format)) {
    throw fail(400, 'not-supported', `_outputFormat ${format} is not supported: application/fhir+ndjson, application/ndjson or ndjson`);
  }
  let since: string | undefined;
  const sinceText = one('_since');
  if (sinceText !== undefined) {
    const date = new Date(sinceText);
    if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/.test(sinceText) || Number.isNaN(date.getTime())) {
      throw badRequest(`_since must be an instant (e.g. 2026-01-01T00:00:00Z): ${sinceText}`);
    }
    since = date.toISOString();
  }
  if (access && (access.role || access.fhirUser)) throw fail(403, 'forbidden', 'Bulk export is for system clients (SMART Backend Services)');
  const scoped = level !== 'system';
  const asked = (params.get('_type') ?? [])
    .flatMap((v) => v.split(','))
    .map((t) => t.trim())
    .filter(Boolean);
  for (const t of asked) {
    if (!isResourceType(t) || storeFor(t).types) {
      if (!lenient) throw badRequest(`_type names an unknown or non-exportable resource type: ${t}`);
    } else if (scoped && !isPatientData(t) && !lenient) {
      throw badRequest(`${t} is not in the Patient compartment: a ${level} export has none`);
    }
  }
  const readable = (t: string) => !access || (unrestricted(restrictionsFor(access, t, 'r')) && unrestricted(restrictionsFor(access, t, 's')));
  const candidates = (asked.length ? [...new Set(asked)] : exportableTypes()).filter(
    (t) => isResourceType(t) && !storeFor(t).types && (!scoped || isPatientData(t)),
  );
  const refused = asked.filter((t) => candidates.includes(t) && !readable(t));
  if (refused.length) throw fail(403, 'forbidden', `The access token's scopes do not allow reading and searching all of ${refused.join(', ')}`);
  const types = candidates.filter(readable);
  if (!types.length) throw fail(403, 'forbidden', 'The access token allows exporting no resource type (system/[type].rs scopes)');
  const typeFilters: Record<string, string[]> = {};
  for (const query of typeFilterQueries(params.get('_typeFilter') ?? [])) {
    const [type, search = ''] = query.split('?', 2);
    if (!isResourceType(type)) throw badRequest(`_typeFilter names an unknown resource type: ${query}`);
    const q = new URLSearchParams(search);
    for (const k of q.keys())
      if (k.startsWith('_include') || k.startsWith('_revinclude') || k === '_sort') throw badRequest(`_typeFilter may not use ${k}: ${query}`);
    try {
      parseSearch([type], q, true, STORAGES);
    } catch (err) {
      if (err instanceof FhirError && err.status === 400) throw badRequest(`_typeFilter ${query}: ${err.message}`);
      throw err;
    }
    if (types.includes(type)) typeFilters[type] = [...(typeFilters[type] ?? []), search];
  }
  return {
    level,
    ...(group ? { group } : {}),
    types,
    ...(since ? { since } : {}),
    typeFilters,
    visibility: access ? visibilityFor(access, rules ?? NO_RULES) : null,
    ...(access ? { actor: actorOf(access) } : {}),
  };
}
