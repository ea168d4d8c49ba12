/**
 * A SMART scope on resources: `system/Patient.rs`, `user/*.cruds`, v1 `patient/Observation.read`,
 * or v2 with a filter, `patient/Observation.rs?category=laboratory`.
 */
export interface ResourceScope {
  context: 'patient' | 'user' | 'system';
  type: string;
  permissions: Set<Permission>;
  /** The search criteria of a `?param=value` scope, as a query string; the scope grants only what they match. */
  filter?: string;
}

export type Permission = 'c' | 'r' | 'u' | 'd' | 's';

const SCOPE_RE = /^(patient|user|system)\/([A-Za-z]+|\*)\.(read|write|\*|c?r?u?d?s?)(?:\?(.*))?$/;
const V1: Record<string, Permission[]> = { read: ['r', 's'], write: ['c', 'u', 'd'], '*': ['c', 'r', 'u', 'd', 's'] };
// A filter is search criteria: name[:modifier]=value pairs joined by &.
const FILTER_RE = /^[A-Za-z_][\w-]*(?::[\w-]+)?=[^&]+(?:&[A-Za-z_][\w-]*(?::[\w-]+)?=[^&]+)*$/;

/** Parses one resource scope; undefined for anything else or a malformed one. */
export function parseResourceScope(s: string): ResourceScope | undefined {
  const m = SCOPE_RE.exec(s);
  if (!m || m[3] === '') return undefined;
  const v1 = V1[m[3]];
  const filter = m[4];
  // Filters are v2 only and name one resource type, whose search parameters they use.
  if (filter !== undefined && (v1 || m[2] === '*' || !FILTER_RE.test(filter))) return undefined;
  const permissions = new Set<Permission>(v1 ?? (m[3].split('') as Permission[]));
  return { context: m[1] as ResourceScope['context'], type: m[2], permissions, ...(filter !== undefined ? { filter } : {}) };
}

/** The resource scopes of a space-separated scope string. */
export function parseResourceScopes(scope: string): ResourceScope[] {
  return splitScope(scope).flatMap((s) => parseResourceScope(s) ?? []);
}

export const splitScope = (scope: string | undefined): string[] => (scope ?? '').split(/\s+/).filter(Boolean);

/** Whether a scope string holds `admin`: the administration API, the directory and conformance resources. */
export const hasAdminScope = (scope: string | undefined) => splitScope(scope).includes('admin');

/** Whether the scopes allow `permission` on resources of `type` (undefined: every type, system-wide). */
export function allows(scopes: ResourceScope[], type: string | undefined, permission: Permission): boolean {
  return scopes.some((s) => s.permissions.has(permission) && (s.type === '*' || (type !== undefined && s.type === type)));
}

/** Whether a resource scope asks for no more than `granted` give (same context, type, filter or none). */
export function isWithin(requested: ResourceScope, granted: ResourceScope[]): boolean {
  return [...requested.permissions].every((p) =>
    granted.some(
      (g) =>
        g.context === requested.context &&
        g.permissions.has(p) &&
        (g.type === '*' || g.type === requested.type) &&
        (g.filter === undefined || g.filter === requested.filter),
    ),
  );
}

/** The requested scopes that `allowed` covers: resource scopes by meaning, the others by name. */
export function scopesWithin(requested: string[], allowed: string[]): string[] {
  const allowedResources = allowed.flatMap((s) => parseResourceScope(s) ?? []);
  return requested.filter((s) => {
    const resource = parseResourceScope(s);
    return resource ? isWithin(resource, allowedResources) : allowed.includes(s);
  });
}
