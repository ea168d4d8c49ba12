import { availableParallelism } from 'node:os';
import type { Resource, SearchParameter } from '@medplum/fhirtypes';
import { Piscina } from 'piscina';
import { loadedSearchParameters, syncSearchParameters } from '../search/loaded-params.js';
import type { Database } from '../store/db.js';
import type { ConformancePolicy } from '../validation/policy.js';
import { prepareLine, profileContext, type ImportOptions, type Prepared, type ProfileContext } from './import-write.js';

/** A line of an NDJSON input: its number and text. */
export type Line = [number, string];

/** What a worker thread starts from: what this process has in force. */
export interface PreparationSetup {
  options: ImportOptions;
  held: { key: string; versionId: string; resource: Resource }[];
  searchParameters: SearchParameter[];
  policy: ConformancePolicy;
}

/** Preparing lines (parse, checks, index extraction), on every core once the threads are up. */
export interface Preparers {
  prepare(lines: Line[]): Promise<(Prepared | string)[]>;
  close(): Promise<void>;
}

const THREADS = availableParallelism();

/**
 * Preparers with what the database has in force now (its profiles, policy and SearchParameters):
 * with `threads`, worker threads, one per core (each loads the definitions first, a few seconds:
 * for large inputs); else this thread. Started again when what is in force changes.
 */
export async function startPreparers(db: Database, options: ImportOptions, threads: boolean): Promise<Preparers> {
  await syncSearchParameters(db);
  const profiles: ProfileContext = await profileContext(db);
  if (!threads) return { prepare: async (lines) => lines.map(([n, text]) => prepareLine(text, n, options, profiles)), close: async () => undefined };
  const setup: PreparationSetup = { options, held: profiles.registry.entries(), searchParameters: loadedSearchParameters(), policy: profiles.policy };
  // Run from the TypeScript sources (tsx, tests), the thread loads them the same way.
  const typescript = import.meta.url.endsWith('.ts');
  const pool = new Piscina({
    filename: new URL(typescript ? './prepare-worker.ts' : './prepare-worker.js', import.meta.url).href,
    workerData: setup,
    minThreads: THREADS,
    maxThreads: THREADS,
    ...(typescript ? { execArgv: ['--import', 'tsx'] } : {}),
  });
  return { prepare: (lines) => pool.run(lines), close: () => pool.destroy() };
}
