import type { Bundle, OperationOutcomeIssue, Resource } from '@medplum/fhirtypes';

/** An absolute URL: one that starts with its scheme (RFC 3986), as HL7's validator reads it. */
const ABSOLUTE = /^[A-Za-z][A-Za-z0-9+.-]*:/;

/**
 * What R4 says of a Bundle that its StructureDefinition cannot: a fullUrl is absolute
 * (bundle.html#fullUrl: "fullUrl SHALL be an absolute URL"), and a link relation, which names one
 * page (self, first, next, ...), occurs once. Bundles inside Bundles (entry.resource) too.
 */
export function checkBundleRules(resource: Resource, path: string = resource.resourceType): OperationOutcomeIssue[] {
  if (resource.resourceType !== 'Bundle') return [];
  const bundle = resource as Bundle;
  const issues: OperationOutcomeIssue[] = [];
  const seen = new Set<string>();
  (bundle.link ?? []).forEach((link, i) => {
    if (typeof link?.relation !== 'string') return;
    if (seen.has(link.relation)) issues.push(error(`${path}.link[${i}]`, `The link relationship type '${link.relation}' can only occur once`));
    seen.add(link.relation);
  });
  (bundle.entry ?? []).forEach((entry, i) => {
    const at = `${path}.entry[${i}]`;
    if (typeof entry?.fullUrl === 'string' && !ABSOLUTE.test(entry.fullUrl)) {
      issues.push(error(`${at}.fullUrl`, `The fullUrl must be an absolute URL (not '${entry.fullUrl}')`));
    }
    if (entry?.resource) issues.push(...checkBundleRules(entry.resource, `${at}.resource`));
  });
  return issues;
}

function error(path: string, text: string): OperationOutcomeIssue {
  return { severity: 'error', code: 'invalid', details: { text }, expression: [path] };
}
