import type { Response } from 'express';
import type { FhirResponse } from '../interactions/context.js';
import { parseExact, stringifyExact } from '../fhir/exact-json.js';

/** Writes a FhirResponse: status, version headers, body (pretty when asked), none for HEAD or 304. */
export function sendFhir(res: Response, fhir: FhirResponse, opts: { contentType: string; pretty: boolean; head: boolean }): void {
  res.status(fhir.status);
  if (fhir.version !== undefined) res.setHeader('ETag', `W/"${fhir.version}"`);
  if (fhir.lastUpdated) res.setHeader('Last-Modified', fhir.lastUpdated.toUTCString());
  if (fhir.location) res.setHeader(fhir.status === 201 ? 'Location' : 'Content-Location', fhir.location);
  if (fhir.status === 304 || fhir.status === 204 || (fhir.raw === undefined && fhir.resource === undefined)) {
    res.end();
    return;
  }
  let body: string;
  if (fhir.raw !== undefined) body = opts.pretty ? stringifyExact(parseExact(fhir.raw), 2) : fhir.raw;
  else body = stringifyExact(fhir.resource, opts.pretty ? 2 : undefined);
  res.setHeader('Content-Type', `${opts.contentType}; charset=utf-8`);
  if (opts.head) {
    res.setHeader('Content-Length', Buffer.byteLength(body));
    res.end();
  } else {
    res.end(body);
  }
}
