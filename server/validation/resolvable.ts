import type { Bundle, Resource } from '@medplum/fhirtypes';
import { resolveInBundle } from './bundle-references.js';

/**
 * A copy of a resource whose References carry their targets found within it (`resource`, which
 * @medplum/core's resolve() follows): a local `#id` leads to the contained resource of the
 * resource it is in, another to an entry of the Bundle, as FHIRPath's resolve() does in HL7's
 * validator. The targets are the original resources (no cycles).
 */
export function withResolvedReferences(resource: Resource): Resource {
  const bundle = resource.resourceType === 'Bundle' ? (resource as Bundle) : undefined;
  const copy = structuredClone(resource);
  const visit = (value: unknown, container: Resource | undefined, original: unknown): void => {
    if (Array.isArray(value)) {
      value.forEach((v, i) => visit(v, container, (original as unknown[])[i]));
      return;
    }
    if (value === null || typeof value !== 'object') return;
    const object = value as Record<string, unknown>;
    const inside = typeof object.resourceType === 'string' ? (original as Resource) : container;
    const reference = object.reference;
    if (typeof reference === 'string' && object.resource === undefined) {
      const target = reference.startsWith('#')
        ? (inside as { contained?: Resource[] } | undefined)?.contained?.find((c) => c?.id === reference.slice(1))
        : bundle && resolveInBundle(bundle, reference);
      if (target) {
        object.resource = target;
        return;
      }
    }
    for (const [key, content] of Object.entries(object)) {
      if (typeof content === 'object') visit(content, inside, (original as Record<string, unknown>)[key]);
    }
  };
  visit(copy, undefined, resource);
  return copy;
}
