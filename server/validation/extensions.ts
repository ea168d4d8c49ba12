import type { Resource, StructureDefinition } from '@medplum/fhirtypes';
import type { Registry } from './canonicals.js';
import { childPlace, contextAllows, resourcePlace, type Place } from './extension-context.js';
import { walkValue, type ProfileFindings } from './profile.js';
import { structureDefinition } from './structures.js';

/**
 * Every extension of a resource checked against its definition, found by URL in the registry
 * (contained resources and nested elements included). An unknown extension is a warning, a
 * modifier one too (the R4 examples use some of example.org): the policy's profiles can close them.
 * The parts of a complex extension (relative URLs) are checked by the extension's own definition.
 * With `unknownIsError` ($validate, as HL7's validator), an unknown extension is an error but
 * for example URLs (example.org, example.com), which stand for any.
 */
/** HL7's extensions beyond R4's own (the extensions package, not held here): unknown, they stay warnings. */
const CORE_EXTENSIONS = 'http://hl7.org/fhir/StructureDefinition/';
const EXAMPLE_URL = /^https?:\/\/([^/]*\.)?example\.(org|com)(\/|$)/;

export function walkExtensions(registry: Registry, resource: Resource, findings: ProfileFindings, unknownIsError = false): void {
  const visit = (value: unknown, path: string, place: Place | undefined): void => {
    if (Array.isArray(value)) {
      value.forEach((v, i) => visit(v, `${path}[${i}]`, place));
      return;
    }
    if (value === null || typeof value !== 'object') return;
    for (const [key, content] of Object.entries(value)) {
      const name = key.startsWith('_') ? key.slice(1) : key;
      const at = `${path}.${name}`;
      if ((key === 'extension' || key === 'modifierExtension') && Array.isArray(content)) {
        content.forEach((ext, i) => check(ext, `${at}[${i}]`, key === 'modifierExtension', place, path));
      } else {
        // A primitive's extensions (`_family`) are on the primitive's element.
        visit(content, at, place && childPlace(registry, place, name, Array.isArray(content) ? content[0] : content));
      }
    }
  };
  const check = (ext: { url?: unknown }, path: string, modifier: boolean, place: Place | undefined, holder: string): void => {
    if (typeof ext?.url !== 'string' || !/^(https?|urn):/.test(ext.url)) return;
    const inner = place && { ...childPlace(registry, place, 'extension', ext), extensionUrl: ext.url };
    const sd = structureDefinition(registry, ext.url, findings.substitutions);
    if (!sd) {
      const error = unknownIsError && !EXAMPLE_URL.test(ext.url) && !ext.url.startsWith(CORE_EXTENSIONS);
      findings.issues.push({
        severity: error ? 'error' : 'warning',
        code: 'extension',
        details: {
          text: error
            ? `The ${modifier ? 'modifier extension' : 'extension'} ${ext.url} could not be found so is not allowed here`
            : `The ${modifier ? 'modifier extension' : 'extension'} ${ext.url} is not known: it is kept unchecked`,
        },
        expression: [path],
      });
      visit(ext, path, inner);
      return;
    }
    if (sd.type !== 'Extension') {
      findings.issues.push({ severity: 'error', code: 'extension', details: { text: `${ext.url} is not an extension definition` }, expression: [path] });
      return;
    }
    if (place && !contextAllows(registry, sd as StructureDefinition, place)) {
      const contexts = (sd.context ?? []).map((c) => c.expression).join(', ');
      findings.issues.push({
        severity: 'error',
        code: 'extension',
        details: {
          text: `The extension ${ext.url} is not allowed to be used at this point (this element is ${place.names.join(', ')}; it is allowed on ${contexts})`,
        },
        expression: [holder],
      });
    }
    walkValue(registry, resource, sd as StructureDefinition, ext, path, findings);
  };
  // Where its extensions are: checked by $validate, as HL7's validator (writes keep what they cannot place).
  visit(resource, resource.resourceType, unknownIsError ? resourcePlace(registry, resource.resourceType) : undefined);
}
