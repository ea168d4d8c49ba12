import { badRequest, preconditionFailed } from '../fhir/outcome.js';
import type { StoredVersion } from '../store/resources.js';
import type { FhirRequest } from './context.js';

/** The version in an ETag: W/"3", "3" or 3. */
export function parseETag(etag: string): number {
  const m = /^(?:W\/)?"?(\d+)"?$/.exec(etag.trim());
  if (!m) throw badRequest(`Invalid ETag: ${etag}`);
  return Number(m[1]);
}

/** If-Match: the write applies only to that version; anything else is 412 (the lost-update guard). */
export function checkIfMatch(req: FhirRequest, current: StoredVersion | undefined): void {
  if (!req.ifMatch) return;
  const expected = parseETag(req.ifMatch);
  if (!current || current.deleted) throw preconditionFailed(`If-Match ${req.ifMatch}: the resource does not exist`);
  if (current.version !== expected) {
    throw preconditionFailed(`If-Match ${req.ifMatch}: the current version is ${current.version}`);
  }
}

/** Conditional read: If-None-Match on the version, If-Modified-Since at one-second HTTP precision. */
export function notModified(req: FhirRequest, current: StoredVersion): boolean {
  if (req.ifNoneMatch) {
    if (req.ifNoneMatch.trim() === '*') return true;
    return req.ifNoneMatch.split(',').some((tag) => /^(?:W\/)?"?(\d+)"?$/.exec(tag.trim())?.[1] === String(current.version));
  }
  if (req.ifModifiedSince) {
    const since = Date.parse(req.ifModifiedSince);
    return !Number.isNaN(since) && Math.floor(current.lastUpdated.getTime() / 1000) * 1000 <= since;
  }
  return false;
}
