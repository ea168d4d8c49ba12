import type { Permission } from './auth/scopes.js';
import type { Context, FhirRequest, FhirResponse } from './interactions/context.js';

/** What a route's pattern names in a request's path. */
export interface PathParams {
  type: string;
  id: string;
  vid: string;
  /** The resource type searched in a compartment: Patient/[id]/[target] */
  target: string;
}

/** One entry of the route table (routes.ts): a FHIR interaction or operation, and what it needs. */
export interface Route {
  method: FhirRequest['method'];
  /** Literal segments, or :type, :id, :vid, :target */
  pattern: string[];
  /** The CapabilityStatement interaction code(s) this route implements, if any. */
  interaction?: string | string[];
  /** For an operation on [type]: the types it is defined on (every type when absent), as /metadata lists them. */
  types?: string[];
  /** The SMART scope permission the route needs (c r u d s); none for public ones like metadata. */
  permission?: Permission;
  /** The route writes its own AuditEvent. */
  selfAudited?: boolean;
  /** The operation writes conformance resources: for those who may write them all (access/structure-writes.ts). */
  writesConformance?: boolean;
  /** The operation works over every resource (of a type): for system clients of the whole pôle and administrators only. */
  overAllData?: boolean;
  handle: (ctx: Context, req: FhirRequest, p: PathParams) => Promise<FhirResponse> | FhirResponse;
}

/** Runs one request: routes.ts's dispatch, handed down so that a Bundle's entries take the same path as HTTP requests. */
export type Dispatch = (ctx: Context, req: FhirRequest) => Promise<FhirResponse>;

/** The `$name` of the operation a route runs, if it runs one. */
export const operationOf = (route: Route): string | undefined => route.pattern.find((s) => s.startsWith('$'));
