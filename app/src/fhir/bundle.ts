import type { Bundle, BundleEntry, Reference, Resource, ResourceType } from '@medplum/fhirtypes';

type Of<K extends ResourceType> = Extract<Resource, { resourceType: K }>;

/** The resources a search matched (not those it included), of one type. */
export function matches<K extends ResourceType>(bundle: Bundle | undefined, type: K): Of<K>[] {
  return (bundle?.entry ?? []).filter((e) => e.search?.mode !== 'include' && e.resource?.resourceType === type).map((e) => e.resource as Of<K>);
}

/** Every resource of a bundle (matches and includes) by `Type/id`, to follow references. */
export class ResourceIndex {
  private readonly byRef = new Map<string, Resource>();

  constructor(...bundles: (Bundle | undefined)[]) {
    for (const b of bundles) for (const e of b?.entry ?? []) if (e.resource?.id) this.byRef.set(`${e.resource.resourceType}/${e.resource.id}`, e.resource);
  }

  get<K extends ResourceType>(type: K, ref: Reference | string | undefined): Of<K> | undefined {
    const key = typeof ref === 'string' ? ref : ref?.reference;
    const found = key ? this.byRef.get(key.replace(/^.*\/(\w+\/[^/]+)$/, '$1')) : undefined;
    return found?.resourceType === type ? (found as Of<K>) : undefined;
  }

  all<K extends ResourceType>(type: K): Of<K>[] {
    return [...this.byRef.values()].filter((r): r is Of<K> => r.resourceType === type);
  }
}

export const nextLink = (bundle: Bundle | undefined) => bundle?.link?.find((l) => l.relation === 'next')?.url;

/** A batch of GET searches: one round trip for a whole view. */
export function batchOf(urls: string[]): Bundle {
  return { resourceType: 'Bundle', type: 'batch', entry: urls.map((url) => ({ request: { method: 'GET', url } })) };
}

/** The answers of a batch, in order: a search Bundle, or the status of a failed entry. */
export type BatchAnswer = { ok: true; bundle: Bundle } | { ok: false; status: number };

export function batchAnswers(reply: Bundle): BatchAnswer[] {
  return (reply.entry ?? []).map((e: BundleEntry) => {
    const status = Number.parseInt(e.response?.status ?? '500', 10);
    return status < 300 && e.resource?.resourceType === 'Bundle' ? { ok: true, bundle: e.resource } : { ok: false, status };
  });
}

/** `W/"3"` for a resource read at version 3: the If-Match of a write that must not overwrite a newer one. */
export const versionTag = (r: Resource) => `W/"${r.meta?.versionId ?? '0'}"`;

export const refTo = (r: Resource, display?: string): Reference => ({ reference: `${r.resourceType}/${r.id}`, ...(display ? { display } : {}) });

export const idOf = (ref: Reference | undefined) => ref?.reference?.split('/').pop();

/**
 * A transaction that writes `resource` over the version it was read at (If-Match), or creates it
 * when it has no id yet: a concurrent change makes the server refuse it (412), never lose it.
 */
export function saveTransaction(resource: Resource): Bundle {
  const entry: BundleEntry = resource.id
    ? { resource, request: { method: 'PUT', url: `${resource.resourceType}/${resource.id}`, ifMatch: versionTag(resource) } }
    : { fullUrl: `urn:uuid:${crypto.randomUUID()}`, resource, request: { method: 'POST', url: resource.resourceType } };
  return { resourceType: 'Bundle', type: 'transaction', entry: [entry] };
}
