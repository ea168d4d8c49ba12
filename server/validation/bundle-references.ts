import type { Bundle, Resource } from '@medplum/fhirtypes';

/**
 * The entry of a Bundle a reference names (bundle.html#references): by fullUrl, absolute or
 * `urn:uuid:`, or a relative `Type/id` against the fullUrls (an entry's server base) or, without
 * them, the entry's type and id. Versions (`/_history/n`) are not told apart here.
 */
export function resolveInBundle(bundle: Bundle, reference: string): Resource | undefined {
  const plain = reference.replace(/\/_history\/[^/]+$/, '');
  const entries = Array.isArray(bundle.entry) ? bundle.entry : [];
  const relative = /^[A-Z][A-Za-z]+\/[A-Za-z0-9\-.]{1,64}$/.test(plain);
  for (const entry of entries) {
    const resource = entry?.resource;
    if (!resource) continue;
    if (entry.fullUrl === plain) return resource;
    if (relative && (entry.fullUrl ? entry.fullUrl.endsWith(`/${plain}`) : `${resource.resourceType}/${resource.id}` === plain)) return resource;
  }
  return undefined;
}
