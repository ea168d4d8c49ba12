import { randomFillSync } from 'node:crypto';
import { v7 as uuidv7 } from 'uuid';

/** FHIR id: 1 to 64 of A-Z a-z 0-9 - . (R4 datatypes.html#id). */
export const ID_RE = /^[A-Za-z0-9\-.]{1,64}$/;
/** A UUID as PostgreSQL reads one (any version). */
export const isUuid = (text: string) => /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(text);
const LOCAL_REF_RE = /^([A-Z][A-Za-z]+)\/([A-Za-z0-9\-.]{1,64})(?:\/_history\/([A-Za-z0-9\-.]{1,64}))?$/;

export interface ParsedReference {
  type: string;
  id: string;
  version?: string;
}

/**
 * Parses a literal reference to a resource of ours: `Type/id`, `Type/id/_history/v`, or the same
 * under `fhirBase` (our own absolute URL). Anything else (another server, urn:, #contained, a
 * conditional `Type?criteria`) gives undefined. The one reader of references for whatever decides
 * access, links or indexes: the base is required, so that no caller reads `[base]/Patient/x` as
 * nobody while another reads it as Patient/x. A version names the same resource for access.
 */
export function parseLocalReference(reference: string, fhirBase: string): ParsedReference | undefined {
  let ref = reference;
  if (ref.startsWith(`${fhirBase}/`)) ref = ref.slice(fhirBase.length + 1);
  const m = LOCAL_REF_RE.exec(ref);
  return m ? { type: m[1], id: m[2], ...(m[3] ? { version: m[3] } : {}) } : undefined;
}

const randomPool = Buffer.alloc(4096);
let poolUsed = randomPool.length;

/**
 * The id of a record the server keeps of its own accord (an AuditEvent, a Provenance): a version 7
 * UUID, time-ordered, from a pool of random bytes (uuid's own draws 16 bytes from WebCrypto for
 * each id, which cost more than the rest of the id: one AuditEvent per request).
 */
export function recordId(): string {
  if (poolUsed === randomPool.length) {
    randomFillSync(randomPool);
    poolUsed = 0;
  }
  poolUsed += 16;
  return uuidv7({ random: randomPool.subarray(poolUsed - 16, poolUsed) });
}
