import type { BundleLink } from '@medplum/fhirtypes';

/** Builds a paging link under the base URL from [name, value] pairs. */
export function link(relation: string, url: string, params: [string, string][]): BundleLink {
  const query = new URLSearchParams(params).toString();
  return { relation, url: query ? `${url}?${query}` : url };
}
