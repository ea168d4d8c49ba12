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

/** Lines of an import past which they are prepared in worker threads (which take seconds to start). */
export const THREADS_AFTER = 1000;

/**
 * The preparers of one import, kept from one of its sources to the next: its first lines are
 * prepared in this thread, the rest by worker threads started once (each loads the definitions,
 * seconds of processor: started for each file of an export's folder, they cost more than the
 * files' small ones took). Started anew when dropped (what is in force changed, or they died).
 */
export class Preparation {
  private preparers?: Promise<Preparers>;
  private threaded = false;
  private dispatched = 0;

  constructor(
    private readonly db: Database,
    private readonly options: ImportOptions,
  ) {}

  /** Hands lines over: their results (rejected if the threads die). */
  prepare(lines: Line[]): Promise<(Prepared | string)[]> {
    this.dispatched += lines.length;
    if (!this.threaded && this.dispatched > THREADS_AFTER) {
      void this.drop();
      this.threaded = true;
    }
    this.preparers ??= startPreparers(this.db, this.options, this.threaded);
    return this.preparers.then((p) => p.prepare(lines));
  }

  /** Stops the preparers: the next lines go to new ones. */
  async drop(): Promise<void> {
    const p = this.preparers;
    this.preparers = undefined;
    await p?.then(
      (x) => x.close(),
      () => undefined,
    );
  }
}

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
  // A thread that dies (a crash, its memory exhausted) fails its tasks, and piscina does not
  // replace one that died starting: every task of the pool is failed at once instead, so that no
  // line waits for a thread that will never come, and the import starts threads anew.
  let down = false;
  const fail = () => {
    if (down) return;
    down = true;
    void pool.destroy();
  };
  pool.on('workerDestroy', fail);
  pool.on('error', fail);
  return {
    prepare: (lines) => (down ? Promise.reject(new Error('The worker threads stopped')) : pool.run(lines)),
    close: async () => {
      if (down) return;
      down = true;
      await pool.destroy();
    },
  };
}
