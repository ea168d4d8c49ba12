import { parseJson } from '../fhir/json.js';
import { fail } from '../fhir/outcome.js';
import { checkStructure } from '../validation/structure.js';

export const FHIR_JSON = 'application/fhir+json';
const JSON_TYPES = new Set([FHIR_JSON, 'application/json', 'application/json+fhir', 'text/json']);
const FORMAT_ALIASES: Record<string, string> = { json: FHIR_JSON };

/** The media type without parameters, lower case: "application/fhir+json; charset=utf-8" -> "application/fhir+json" */
export function mediaType(header: string | undefined): string | undefined {
  return header?.split(';')[0].trim().toLowerCase() || undefined;
}

/**
 * The response media type from `_format` (which wins) or Accept. JSON only: a client asking for
 * XML or Turtle alone gets 406.
 */
export function negotiate(format: string | null, accept: string | undefined): string {
  if (format) {
    const type = FORMAT_ALIASES[format] ?? mediaType(format.replace(/ /g, '+'));
    if (type && JSON_TYPES.has(type)) return type === 'application/json' ? type : FHIR_JSON;
    throw fail(406, 'not-supported', `_format=${format} is not available: this server speaks FHIR JSON only`);
  }
  if (!accept) return FHIR_JSON;
  const ranges = accept
    .split(',')
    .map((part) => {
      const [type, ...params] = part.split(';').map((s) => s.trim().toLowerCase());
      const q = params.find((p) => p.startsWith('q='));
      return { type, q: q ? Number(q.slice(2)) : 1 };
    })
    .filter((r) => r.q > 0)
    .sort((a, b) => b.q - a.q);
  for (const { type } of ranges) {
    if (type === 'application/json') return type;
    if (JSON_TYPES.has(type) || type === '*/*' || type === 'application/*') return FHIR_JSON;
  }
  throw fail(406, 'not-supported', `None of the types in Accept (${accept}) is available: this server speaks FHIR JSON only`);
}

export const BODY_TYPES = {
  resource: JSON_TYPES,
  jsonPatch: 'application/json-patch+json',
  form: 'application/x-www-form-urlencoded',
  /** FHIR packages (`$load-package`): read as bytes. */
  package: new Set(['application/gzip', 'application/x-gzip', 'application/octet-stream']),
};

/**
 * Parses a request body by its Content-Type; 415 for a type we cannot read, 400 for bad JSON,
 * JSON nested deeper than `maxJsonDepth`, or a JSON object that is not a resource in R4's JSON
 * structure: no interaction walks a body before it passes (but $validate, which reports the faults).
 */
export function parseBody(contentType: string | undefined, body: Buffer, maxJsonDepth?: number, checkResource = true): unknown {
  if (contentType === BODY_TYPES.form) return body.toString('utf8');
  if (contentType && BODY_TYPES.package.has(contentType)) return body;
  if (!contentType || (!BODY_TYPES.resource.has(contentType) && contentType !== BODY_TYPES.jsonPatch)) {
    throw fail(
      415,
      'not-supported',
      `Content-Type ${contentType ?? '(none)'} cannot be read: send application/fhir+json${contentType ? '' : ' (curl: -H "Content-Type: application/fhir+json")'}`,
    );
  }
  const value = parseJson(body.toString('utf8'), maxJsonDepth);
  // An object is a resource: checked here once for every interaction. Any other JSON value (a JSON
  // Patch, a misdirected array) is for the interaction to refuse or take.
  if (checkResource && value !== null && typeof value === 'object' && !Array.isArray(value)) checkStructure(value);
  return value;
}
