import { badRequest } from '../fhir/outcome.js';
import type { FhirRequest } from './context.js';

/**
 * Refuses a parameter holding U+0000 (percent-encoded as %00): PostgreSQL text cannot hold it,
 * so any statement given it fails, and no FHIR string may contain it anyway.
 */
export function checkQueryText(params: URLSearchParams, where: string): void {
  for (const [name, value] of params) {
    if (name.includes('\u0000') || value.includes('\u0000')) {
      throw badRequest(`${where}: the parameter ${JSON.stringify(name)} holds a NUL character (%00), which no FHIR value may hold`);
    }
  }
}

/** Every parameter a request carries: its query, a form body, and If-None-Exist's criteria. */
export function checkRequestQuery(req: FhirRequest): void {
  checkQueryText(req.query, 'The query');
  if (typeof req.body === 'string') checkQueryText(new URLSearchParams(req.body), 'The form body');
  if (req.ifNoneExist) checkQueryText(new URLSearchParams(req.ifNoneExist), 'If-None-Exist');
}
