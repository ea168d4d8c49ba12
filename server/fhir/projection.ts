import { tryGetDataType } from '@medplum/core';
import type { Coding, Resource } from '@medplum/fhirtypes';
import { carryExact } from './exact-json.js';

/** The tag a server puts on a resource it returns with elements left out (R4 search.html#summary). */
export const SUBSETTED: Coding = { system: 'http://terminology.hl7.org/CodeSystem/v3-ObservationValue', code: 'SUBSETTED' };

export interface Projection {
  /** `_summary`: true, text, data (false and count are no projection). */
  summary?: string;
  /** `_elements`: top-level element names. */
  elements?: string[];
}

/**
 * A resource reduced as `_summary` or `_elements` ask, at the top level of the resource: the
 * summary elements of its StructureDefinition, or the listed ones, always with the mandatory
 * ones, `id` and `meta`; marked SUBSETTED. Undefined when nothing is to be left out.
 */
export function project(resource: Resource, { summary, elements }: Projection): Resource | undefined {
  const schema = tryGetDataType(resource.resourceType);
  let keep: (name: string, key: string) => boolean;
  if (elements) {
    const listed = new Set(elements);
    keep = (name, key) => listed.has(name) || listed.has(key) || !!schema?.mandatoryProperties?.has(name);
  } else if (summary === 'true') {
    keep = (name) => !!schema?.summaryProperties?.has(name);
  } else if (summary === 'text') {
    keep = (name) => name === 'text' || !!schema?.mandatoryProperties?.has(name);
  } else if (summary === 'data') {
    keep = (name) => name !== 'text';
  } else {
    return undefined;
  }
  const out: Record<string, unknown> = { resourceType: resource.resourceType };
  for (const [key, value] of Object.entries(resource)) {
    if (key === 'id' || key === 'meta' || keep(elementName(key, schema?.elements ?? {}), key)) out[key] = value;
  }
  // Exact decimals come along (symbol keys: Object.entries skips them).
  carryExact(resource, out);
  const meta = resource.meta ?? {};
  out.meta = { ...meta, tag: [...(meta.tag ?? []), SUBSETTED] };
  return out as unknown as Resource;
}

/** The element an instance key belongs to: `deceasedBoolean` is the choice element `deceased`. */
function elementName(key: string, elements: Record<string, unknown>): string {
  if (elements[key]) return key;
  const choice = Object.keys(elements).find((e) => e.endsWith('[x]') && key.startsWith(e.slice(0, -3)));
  return choice ? choice.slice(0, -3) : key;
}
