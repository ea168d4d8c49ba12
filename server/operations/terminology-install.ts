import type { CodeSystem, ValueSet } from '@medplum/fhirtypes';
import type { Logger } from 'pino';
import { putAll } from '../put-all.js';
import { readCanonicalHeads, type CanonicalHead } from '../store/canonicals.js';
import type { Database, Queryable } from '../store/db.js';
import { BUNDLED_SOURCE, bundledTerminology } from '../terminology/bundled.js';
import { compareVersions, newest } from '../terminology/versions.js';

type Terminology = CodeSystem | ValueSet;

// Any constant: two processes starting together on one database write the terminology once.
const INSTALL_LOCK = 4_271_831;

const isBundled = (source: string | null | undefined) => !!source?.startsWith(BUNDLED_SOURCE);

/**
 * Whether a code system or value set should be written over what the database holds of its URL:
 * when nothing is held, or only older versions; at the same version, when what is held is
 * Maillage's own transcription and this is an official release, or a newer transcription.
 */
function supersedes(r: Terminology, held: CanonicalHead[]): boolean {
  const latest = newest(held.map((h) => ({ ...h, version: h.version ?? undefined })));
  if (!latest) return true;
  const order = compareVersions(r.version, latest.version);
  if (order !== 0) return order > 0;
  return isBundled(latest.source) && (!isBundled(r.meta?.source) || r.meta?.source !== latest.source);
}

async function stale(q: Queryable, resources: Terminology[]): Promise<Terminology[]> {
  const held = new Map<string, CanonicalHead[]>();
  for (const type of ['CodeSystem', 'ValueSet'] as const) {
    const urls = resources.filter((r) => r.resourceType === type).map((r) => r.url as string);
    for (const h of urls.length ? await readCanonicalHeads(q, type, urls) : []) held.set(`${type}|${h.url}`, [...(held.get(`${type}|${h.url}`) ?? []), h]);
  }
  return resources.filter((r) => supersedes(r, held.get(`${r.resourceType}|${r.url}`) ?? []));
}

/**
 * Writes the code systems and value sets the database lacks or holds in an older version, through
 * the write path (PUT by id: validation, history, search index), in one transaction; leaves the
 * others. Returns those written. Checking costs one query when there is nothing to write.
 */
export async function installTerminology(db: Database, origin: string, log: Logger, resources: Terminology[]): Promise<Terminology[]> {
  if (!(await stale(db, resources)).length) return [];
  return db.transaction(async (tx) => {
    await tx.query('SELECT pg_advisory_xact_lock($1)', [INSTALL_LOCK]);
    const toWrite = await stale(tx, resources);
    await putAll(db, tx, origin, log, toWrite);
    return toWrite;
  });
}

/** At start: Maillage's own NOS code systems and value sets (terminology/nos), where the database has none as new. */
export async function installBundledTerminology(db: Database, origin: string, log: Logger): Promise<void> {
  const started = Date.now();
  const written = await installTerminology(db, origin, log, bundledTerminology());
  if (written.length) log.info({ resources: written.length, ms: Date.now() - started }, 'installed the NOS terminology');
}
