import type { CapabilityStatement, CapabilityStatementRestResource, CapabilityStatementRestSecurity } from '@medplum/fhirtypes';
import { searchParamsOf } from '../search/parameters.js';
import { storeFor } from '../stores/by-type.js';
import { resourceTypes } from '../validation/registry.js';
import { supportedProfiles } from '../validation/supported.js';
import { VERSION } from '../version.js';
import type { Context, FhirResponse } from './context.js';
import { PATCH_FORMATS } from './patch.js';
import { operationOf, type Route } from '../route.js';

const started = new Date().toISOString();

/** An operation served beside the route table (bulk data's), as /metadata lists it: at system level, or on `types`. */
export interface ServedOperation {
  name: string;
  definition: string;
  types?: string[];
}

/** What another capability says of a resource type in /metadata (the channels and topics of Subscription), for this origin. */
export type TypeDescription = (origin: string) => Pick<CapabilityStatementRestResource, 'extension' | 'documentation'>;

/** What is served beside the route table: operations, the CapabilityStatements it instantiates, and what it says of types. */
export interface Served {
  operations: ServedOperation[];
  instantiates: string[];
  types?: Record<string, TypeDescription>;
}

/**
 * GET /metadata: built from the route table's interactions and the search registry, never by
 * hand; `served`, the operations answered beside the table, and the CapabilityStatements they
 * make this server an instance of (`instantiates`), and what they say of a type (`types`).
 */
export function capabilities(ctx: Context, routes: Route[], served: Served = { operations: [], instantiates: [] }): FhirResponse {
  const codes = (system: boolean) =>
    [...new Set(routes.filter((r) => r.interaction && r.pattern.includes(':type') !== system).flatMap((r) => r.interaction ?? []))].map((code) => ({ code }));
  const operations = (type?: string) => {
    const names = routes.flatMap((r) => {
      const name = operationOf(r);
      const onType = r.pattern.includes(':type');
      return name && (type ? onType && (!r.types || r.types.includes(type)) : !onType) ? [name] : [];
    });
    const beside = served.operations.filter((o) => (type ? o.types?.includes(type) : !o.types)).map(({ name, definition }) => ({ name, definition }));
    return [...[...new Set(names)].map((name) => ({ name: name.slice(1), definition: operationDefinition(name, type) })), ...beside];
  };
  const profiles = supportedProfiles(ctx.db);
  const resource = resourceTypes().map((type) => {
    const store = storeFor(type);
    return store.describe({
      type: type as CapabilityStatementRestResource['type'],
      profile: `http://hl7.org/fhir/StructureDefinition/${type}`,
      ...(profiles.get(type) ? { supportedProfile: profiles.get(type) } : {}),
      interaction: codes(false) as CapabilityStatementRestResource['interaction'],
      versioning: 'versioned-update',
      readHistory: true,
      updateCreate: true,
      conditionalCreate: true,
      conditionalRead: 'full-support',
      conditionalUpdate: true,
      conditionalDelete: 'single',
      searchParam: [...searchParamsOf(type).values()].filter((sp) => store.searches(sp)).map((sp) => ({ name: sp.code, definition: sp.url, type: sp.type })),
      operation: operations(type),
      ...served.types?.[type]?.(ctx.origin),
    });
  }) satisfies CapabilityStatementRestResource[];
  const statement: CapabilityStatement = {
    resourceType: 'CapabilityStatement',
    status: 'active',
    date: started,
    publisher: 'Maillage',
    kind: 'instance',
    ...(served.instantiates.length ? { instantiates: served.instantiates } : {}),
    software: { name: 'Maillage', version: VERSION },
    implementation: { description: 'Maillage FHIR R4 server', url: ctx.fhirBase },
    fhirVersion: '4.0.1',
    format: ['application/fhir+json', 'application/json'],
    patchFormat: PATCH_FORMATS,
    rest: [
      { mode: 'server', ...(ctx.authEnabled ? { security: security(ctx.origin) } : {}), resource, interaction: codes(true) as never, operation: operations() },
    ],
  };
  return { status: 200, resource: statement };
}

/** SMART on FHIR security, with the oauth-uris extension pointing at our authorization server. */
function security(origin: string): CapabilityStatementRestSecurity {
  return {
    service: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/restful-security-service', code: 'SMART-on-FHIR' }] }],
    extension: [
      {
        url: 'http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris',
        extension: ['authorize', 'token', 'introspect', 'revoke'].map((url) => ({ url, valueUri: `${origin}/auth/${url}` })),
      },
    ],
  };
}

/** The operations of the FHIR specification we implement, by name: their OperationDefinitions are HL7's. */
const SPEC_OPERATIONS = new Set(['$expand', '$validate-code', '$lookup', '$subsumes']);

/** The canonical of the OperationDefinition of `$name` (on `type`): HL7's for the specification's, ours otherwise. */
function operationDefinition(name: string, type?: string): string {
  if (name === '$get-ws-binding-token') return 'http://hl7.org/fhir/uv/subscriptions-backport/OperationDefinition/backport-subscription-get-ws-binding-token';
  if (name === '$status') return 'http://hl7.org/fhir/uv/subscriptions-backport/OperationDefinition/backport-subscription-status';
  if (name === '$events') return 'http://hl7.org/fhir/uv/subscriptions-backport/OperationDefinition/backport-subscription-events';
  if (name === '$validate') return 'http://hl7.org/fhir/OperationDefinition/Resource-validate';
  if (SPEC_OPERATIONS.has(name)) return `http://hl7.org/fhir/OperationDefinition/${type}-${name.slice(1)}`;
  return `https://fhir.maillage.fr/OperationDefinition/${name.slice(1)}`;
}
