import { outcome } from '../fhir/outcome.js';
import type { FhirRequest, FhirResponse, Prefer } from './context.js';

/** Reads the Prefer header: return=minimal|representation|OperationOutcome, handling=strict|lenient. */
export function parsePrefer(header: string | undefined): Prefer {
  const prefer: Prefer = {};
  for (const part of (header ?? '').split(/[,;]/)) {
    const [key, value] = part.split('=').map((s) => s?.trim().replace(/^"|"$/g, ''));
    if (key === 'return' && (value === 'minimal' || value === 'representation' || value === 'OperationOutcome')) {
      prefer.return = value;
    }
    if (key === 'handling' && (value === 'strict' || value === 'lenient')) prefer.handling = value;
  }
  return prefer;
}

/** Shapes the body of a successful write as Prefer: return asks (representation by default). */
export function applyPrefer(req: FhirRequest, res: FhirResponse): FhirResponse {
  const isWrite = ['POST', 'PUT', 'PATCH'].includes(req.method) && res.location !== undefined;
  if (!isWrite || res.status >= 300) return res;
  switch (req.prefer.return) {
    case 'minimal':
      return { ...res, resource: undefined, raw: undefined };
    case 'OperationOutcome':
      return {
        ...res,
        raw: undefined,
        resource: outcome('information', 'informational', `${req.method} succeeded: ${res.location}`),
      };
    default:
      return res;
  }
}
