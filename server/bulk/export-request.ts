import type { Group, Parameters } from '@medplum/fhirtypes';
import { visibilityFor } from '../access/principal.js';
import { restrictionsFor, unrestricted } from '../access/restrictions.js';
import { NO_RULES, type AccessRules } from '../access/rules.js';
import { isPatientData, type Visibility } from '../access/visibility.js';
import { actorOf, type Actor } from '../audit/event.js';
import type { Access } from '../auth/tokens.js';
import { parseLocalReference } from '../fhir/ids.js';
import { badRequest, fail, FhirError, notFound } from '../fhir/outcome.js';
import type { Prefer } from '../interactions/context.js';
import { parseSearch } from '../search/parse.js';
import { STORAGES, storeFor } from '../stores/by-type.js';
import type { Database } from '../store/db.js';
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
  /** `_elements`: the top-level elements kept, per type (`*`: those named without a type). */
  elements?: Record<string, string[]>;
  /** `patient`: the patients whose compartments a Patient or Group export is limited to. */
  patients?: string[];
  /** `includeAssociatedData`: the Provenances of the resources exported, only the latest of each or all. */
  provenance?: 'latest' | 'relevant';
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

/** The kick-off parameters served; any other is refused unless `Prefer: handling=lenient`. */
const SUPPORTED = new Set(['_outputFormat', '_since', '_type', '_typeFilter', '_elements', 'patient', 'includeAssociatedData']);

/** includeAssociatedData's values served, least restrictive last: when both are asked, the last wins (as the IG says). */
const ASSOCIATED = { LatestProvenanceResources: 'latest', RelevantProvenanceResources: 'relevant' } as const;

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
  fhirBase: string,
  group?: string,
): ExportParams {
  const one = (name: string) => params.get(name)?.[params.get(name)!.length - 1];
  const lenient = prefer.handling === 'lenient';
  for (const name of params.keys()) {
    if (!SUPPORTED.has(name) && !lenient) {
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
  const provenance = associatedParam(params.get('includeAssociatedData') ?? [], lenient);
  if (provenance && !readable('Provenance')) {
    throw fail(403, 'forbidden', "includeAssociatedData: the access token's scopes do not allow reading and searching Provenance");
  }
  // With includeAssociatedData, those Provenances only (the IG: other Provenance resources will not be returned).
  const types = candidates.filter((t) => readable(t) && !(provenance && t === 'Provenance'));
  if (!types.length) {
    throw fail(403, 'forbidden', `The access token allows exporting no resource type (system/[type].rs scopes)${provenance ? ' but Provenance' : ''}`);
  }
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
  const elements = elementsParam(params.get('_elements') ?? []);
  const patients = patientParam(level, params.get('patient') ?? [], fhirBase, lenient);
  return {
    level,
    ...(group ? { group } : {}),
    types,
    ...(since ? { since } : {}),
    typeFilters,
    ...(elements ? { elements } : {}),
    ...(patients ? { patients } : {}),
    ...(provenance ? { provenance } : {}),
    visibility: access ? visibilityFor(access, rules ?? NO_RULES) : null,
    ...(access ? { actor: actorOf(access) } : {}),
  };
}

/**
 * `_elements`: `[type].[element]` or `[element]`, root elements only (the IG), grouped by type
 * (`*` for those named without one). Undefined when not asked.
 */
function elementsParam(values: string[]): Record<string, string[]> | undefined {
  const items = values
    .flatMap((v) => v.split(','))
    .map((e) => e.trim())
    .filter(Boolean);
  if (!items.length) return undefined;
  const out: Record<string, string[]> = {};
  for (const item of items) {
    const m = /^(?:([A-Z][A-Za-z]+)\.)?([a-z][A-Za-z0-9]*)$/.exec(item);
    if (!m || (m[1] && !isResourceType(m[1]))) throw badRequest(`_elements: ${item} is not [resource type].[root element] or [root element]`);
    (out[m[1] ?? '*'] ??= []).push(m[2]);
  }
  return out;
}

/** `patient`: references to patients, for Patient and Group exports only (the IG: not applicable to a system export). */
function patientParam(level: ExportParams['level'], values: string[], fhirBase: string, lenient: boolean): string[] | undefined {
  if (!values.length) return undefined;
  if (level === 'system') {
    if (lenient) return undefined;
    throw badRequest('The patient parameter is for Patient/$export and Group/[id]/$export, not a system export');
  }
  return [
    ...new Set(
      values.map((v) => {
        const ref = parseLocalReference(v, fhirBase);
        if (ref?.type !== 'Patient' || ref.version) throw badRequest(`patient must be a reference to a Patient of this server: ${v}`);
        return ref.id;
      }),
    ),
  ];
}

/** `includeAssociatedData`: the Provenance presets; a custom one (`_name`) or any other is not served. */
function associatedParam(values: string[], lenient: boolean): ExportParams['provenance'] {
  let out: ExportParams['provenance'];
  for (const v of values
    .flatMap((x) => x.split(','))
    .map((x) => x.trim())
    .filter(Boolean)) {
    const preset = ASSOCIATED[v as keyof typeof ASSOCIATED];
    if (preset) out = out === 'relevant' ? out : preset;
    else if (!lenient) {
      throw fail(400, 'not-supported', `includeAssociatedData ${v} is not supported: LatestProvenanceResources or RelevantProvenanceResources`);
    }
  }
  return out;
}

/**
 * What a kick-off names is there and the client's to see: the Group of a group export, and the
 * patients of `patient` (for a Group, among its members). The IG asks for an error, not an empty
 * file, when a patient asked for is unknown; one outside the client's équipe de soins is
 * reported alike (its existence is not the client's to learn).
 */
export async function checkScope(db: Database, params: ExportParams, visibility: Visibility | null, fhirBase: string): Promise<void> {
  let members: Set<string> | undefined;
  if (params.group) {
    const row = await storeFor('Group').readIfVisible(db, 'Group', params.group, visibility);
    if (!row?.content || row.deleted) throw notFound(`Group/${params.group} is not known`);
    if (!row.visible) throw fail(403, 'forbidden', `Group/${params.group} is outside your équipe de soins`);
    members = new Set(groupPatients(JSON.parse(row.content) as Group, fhirBase).patients);
  }
  if (!params.patients) return;
  const seen = new Set(await storeFor('Patient').visibleIds(db, 'Patient', params.patients, visibility));
  const missing = params.patients.filter((id) => !seen.has(id) || (members && !members.has(id)));
  if (missing.length) {
    throw fail(
      400,
      'not-found',
      `patient: ${missing.map((id) => `Patient/${id}`).join(', ')} ${members ? 'not an active member of the Group, ' : ''}not known, or outside your équipe de soins`,
    );
  }
}

/** A Group's active members that are patients of this server, and the references that are not. */
export function groupPatients(group: Group, fhirBase: string): { patients: string[]; others: string[] } {
  const out = { patients: [] as string[], others: [] as string[] };
  for (const m of group.member ?? []) {
    if (m.inactive) continue;
    const ref = m.entity?.reference ? parseLocalReference(m.entity.reference, fhirBase) : undefined;
    if (ref?.type === 'Patient') out.patients.push(ref.id);
    else out.others.push(m.entity?.reference ?? '(no reference)');
  }
  return out;
}
