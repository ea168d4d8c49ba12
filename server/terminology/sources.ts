import type { CodeSystem, ValueSet } from '@medplum/fhirtypes';
import { readByCanonical } from '../store/canonicals.js';
import type { Queryable } from '../store/db.js';
import { baseTerminology } from './base.js';
import { cached } from './cache.js';
import { compileCodeSystem, type CompiledCodeSystem } from './codesystem.js';
import { compareVersions, newest } from './versions.js';

/** A canonical `url|version` split; the version of the reference wins over a separate one. */
export function splitCanonical(canonical: string, version?: string): { url: string; version?: string } {
  const bar = canonical.indexOf('|');
  return bar < 0 ? { url: canonical, version: version || undefined } : { url: canonical.slice(0, bar), version: canonical.slice(bar + 1) || version };
}

/**
 * The resource of a canonical URL: the version asked if it is held, else the newest held (the
 * caller compares versions to warn). The store first, then the R4 terminology shipped with the
 * server.
 */
async function find<T extends CodeSystem | ValueSet>(q: Queryable, type: T['resourceType'], url: string, version?: string): Promise<T | undefined> {
  const held = (await readByCanonical(q, type, url)).map((c) => JSON.parse(c) as T);
  if (!held.length) return baseTerminology<T>(type, url);
  return held.find((r) => version !== undefined && compareVersions(r.version, version) === 0) ?? newest(held);
}

export function findCodeSystem(q: Queryable, url: string, version?: string): Promise<CompiledCodeSystem | undefined> {
  return cached(`CodeSystem|${url}|${version ?? ''}`, async () => {
    const cs = await find<CodeSystem>(q, 'CodeSystem', url, version);
    return cs && compileCodeSystem(cs);
  });
}

export function findValueSet(q: Queryable, url: string, version?: string): Promise<ValueSet | undefined> {
  return cached(`ValueSet|${url}|${version ?? ''}`, () => find<ValueSet>(q, 'ValueSet', url, version));
}
