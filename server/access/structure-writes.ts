import type { Endpoint, HealthcareService, Location, Organization, PractitionerRole, Reference, Resource } from '@medplum/fhirtypes';
import { parseLocalReference } from '../fhir/ids.js';
import { CANONICAL_TYPES } from '../validation/canonicals.js';
import type { AccessRules } from './rules.js';
import { hasAdminScope } from '../auth/scopes.js';
import type { Access } from '../auth/tokens.js';

/** The directory: who works where. A PractitionerRole at a record holder opens its patients. */
export const DIRECTORY_TYPES = new Set(['Organization', 'PractitionerRole', 'Practitioner', 'HealthcareService', 'Location', 'Endpoint']);

/**
 * The conformance resources: what validation, search and terminology read for everyone (the
 * R4 Conformance and Terminology modules, and whatever a package brings as a canonical).
 */
export const CONFORMANCE_TYPES = new Set<string>([
  ...CANONICAL_TYPES,
  'StructureMap',
  'GraphDefinition',
  'MessageDefinition',
  'ExampleScenario',
  'TerminologyCapabilities',
]);

/** The directory types an organisation owns resources of (the Practitioner, a person, belongs to none). */
const OWNED_TYPES = new Set(['Organization', 'PractitionerRole', 'HealthcareService', 'Location', 'Endpoint']);

/** Whether resources of `type` are the directory's or conformance resources: written by administrators only (see structureWriter). */
export const isStructureType = (type: string) => DIRECTORY_TYPES.has(type) || CONFORMANCE_TYPES.has(type);

/** Who writes structure resources: every one, an organisation's own, or none (undefined). */
export type StructureWriter = 'all' | { organization: string } | undefined;

/**
 * Who a token's holder is as a writer of the directory and conformance resources: `all` for an
 * administrator (the `admin` scope) or a system client of the whole pôle, the organisation a
 * system client acts for (its own structure resources only), undefined for anyone else. Never a
 * user: a user who could write a PractitionerRole could place herself anywhere.
 */
export function structureWriter(access: Access, rules: AccessRules): StructureWriter {
  if (access.grantId || access.fhirUser || access.role) return undefined;
  const organization = rules.clientOrganizations[access.clientId];
  if (hasAdminScope(access.scope) || organization === '*') return 'all';
  return organization ? { organization } : undefined;
}

/** Whether `writer` may write resources of `type` at all (an organisation's: only those it may own, then checked one by one with ownedBy). */
export function mayWriteType(writer: StructureWriter, type: string): boolean {
  return writer === 'all' || (!!writer && OWNED_TYPES.has(type));
}

/**
 * Whether `resource` belongs to the organisation: the Organization itself or one `partOf` it; a
 * PractitionerRole, HealthcareService, Location or Endpoint whose organization, providedBy or
 * managingOrganization it is.
 */
export function ownedBy(organization: string, resource: Resource, fhirBase: string): boolean {
  const org = (ref: Reference | undefined) => {
    const parsed = typeof ref?.reference === 'string' ? parseLocalReference(ref.reference, fhirBase) : undefined;
    return parsed?.type === 'Organization' ? parsed.id : undefined;
  };
  switch (resource.resourceType) {
    case 'Organization':
      return resource.id === organization || org((resource as Organization).partOf) === organization;
    case 'PractitionerRole':
      return org((resource as PractitionerRole).organization) === organization;
    case 'HealthcareService':
      return org((resource as HealthcareService).providedBy) === organization;
    case 'Location':
    case 'Endpoint':
      return org((resource as Location | Endpoint).managingOrganization) === organization;
    default:
      return false;
  }
}
