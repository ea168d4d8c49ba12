import type autocannon from 'autocannon';
import type pg from 'pg';

/** What a scenario prepares its requests from. */
export interface BenchContext {
  /** The bench database, to pick ids and bodies from what was loaded (never during a measure). */
  db: pg.Pool;
  /** Resources loaded before the run. */
  size: number;
  /** The seed the data set was generated from (seed/territory.ts). */
  seed: number;
}

/**
 * One benchmark: a file in bench/scenarios whose default export is a Scenario. The harness finds
 * it by file, runs it by `name`, warms up, then measures the requests with autocannon.
 */
export interface Scenario {
  name: string;
  /** What is measured, in one line of RESULTS.md. */
  title: string;
  /**
   * bench/ceiling.ts answers the same requests (GET, POST and PUT of [type] and [type]/[id]):
   * the harness measures them there too and reports the ratio.
   */
  ceiling: boolean;
  /** Resources each request writes, where more than one (transactions): the rate is also given in resources/s. */
  entries?: number;
  /** Concurrent connections instead of the run's (`--connections`): a big transaction takes seconds, 20 at once would time out. */
  connections?: number;
  /**
   * Measures the requests on a second Maillage too, with authorization on: the environment it
   * needs beside AUTH (the harness registers a bootstrap client and sends its token), so that
   * the équipe-de-soins rules and the audit trail are measured against AUTH=off.
   */
  secured?(ctx: BenchContext): Promise<Record<string, string>>;
  /** The requests autocannon cycles through, prepared once; the same go to the ceiling. */
  prepare(ctx: BenchContext): Promise<autocannon.Request[]>;
}

/** Picks a random element per request: autocannon calls setupRequest before each one. */
export function pick<T>(items: T[]): T {
  return items[Math.floor(Math.random() * items.length)];
}
