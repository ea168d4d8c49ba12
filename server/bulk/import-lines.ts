import type { Database, Queryable } from '../store/db.js';
import { isConformanceType } from '../validation/registry-sync.js';
import { writeBatch, type ImportOptions, type LineError, type Prepared } from './import-write.js';
import { Preparation, type Line } from './prepare-pool.js';

/** Resources per transaction: thousands make COPY pay, and a crash loses no more. */
export const BATCH_SIZE = 2000;
/** Lines per task of a worker thread: enough that handing them over costs little. */
const CHUNK = 200;
/** Chunks being prepared ahead of the batch being written. */
const AHEAD = 16;
/** Times the worker threads are started anew after dying with no chunk prepared in between: past that, the import fails. */
const RESTARTS = 3;

/**
 * What a committed batch tells its caller, in the batch's transaction: the lines done so far in
 * the source (where to resume), the resources written and the lines refused.
 */
export type Commit = (tx: Queryable, linesDone: number, written: Prepared[], errors: LineError[]) => Promise<void>;

/** Types whose writes change how the following lines are checked or indexed. */
const changesChecks = (type: string) => type === 'SearchParameter' || isConformanceType(type);

/**
 * Imports the NDJSON lines of one source from line `from` + 1 on (those before were done by an
 * earlier run): parsed, checked and indexed in worker threads on every core (`preparation`, the
 * import's, kept across its sources; else one of its own),
 * chunks ahead of the batch being written, so that the processors and the database work at once.
 * A blank line is skipped; a bad one reported with its number and reason, the others going in. A
 * resource named twice in a batch ends the batch before its second line, so that the second
 * version follows the first. After a batch that wrote profiles or SearchParameters, the lines
 * prepared ahead are prepared again with them in force; so are they when a worker thread dies,
 * by threads started anew (a few times; then the import fails, its batches written kept).
 */
export async function importLines(
  db: Database,
  o: ImportOptions,
  source: string,
  lines: AsyncIterable<string>,
  from: number,
  commit: Commit,
  preparation?: Preparation,
): Promise<void> {
  const preparers = preparation ?? new Preparation(db, o);
  const ahead: { lines: Line[]; prepared: Promise<(Prepared | string)[]> }[] = [];
  let batch: Prepared[] = [];
  let errors: LineError[] = [];
  let keys = new Set<string>();
  let stale = false;
  let restarts = 0;
  const dispatch = (chunk: Line[]) => {
    const prepared = preparers.prepare(chunk);
    prepared.catch(() => undefined);
    ahead.push({ lines: chunk, prepared });
  };
  const flush = async (upTo: number) => {
    const [b, e] = [batch, errors];
    [batch, errors, keys] = [[], [], new Set()];
    await writeBatch(
      db,
      o.fhirBase,
      b,
      (p, reason) => e.push({ source, line: p.line, reason }),
      (tx, written) => commit(tx, upTo, written, e),
    );
    stale = b.some((p) => changesChecks(p.version.type));
  };
  /** Takes the oldest chunk prepared into batches; its lines not taken when what is in force changed midway. */
  const take = async () => {
    const { lines: chunk, prepared } = ahead.shift() as (typeof ahead)[number];
    let results: (Prepared | string)[];
    try {
      results = await prepared;
      restarts = 0;
    } catch (err) {
      // A line's own fault is a result (a string): a rejection is the threads' death. The lines
      // are prepared again by new ones; nothing of them was written.
      if (++restarts > RESTARTS) {
        throw new Error(
          `${source}: the worker threads preparing lines ${chunk[0][0]}–${chunk[chunk.length - 1][0]} died ${RESTARTS + 1} times: ${(err as Error).message}`,
        );
      }
      return restart(chunk);
    }
    for (const [i, p] of results.entries()) {
      const n = chunk[i][0];
      if (typeof p === 'string') errors.push({ source, line: n, reason: p });
      else {
        const key = `${p.version.type}/${p.version.id}`;
        if (keys.has(key)) {
          await flush(n - 1);
          if (stale) return restart(chunk.slice(i));
        }
        keys.add(key);
        batch.push(p);
        if (batch.length >= BATCH_SIZE) await flush(n);
      }
      if (stale) return restart(chunk.slice(i + 1));
    }
  };
  /** Prepares again, with threads started anew, the lines prepared before what is in force changed (or before the threads died). */
  const restart = async (rest: Line[]) => {
    stale = false;
    const again = [rest, ...ahead.splice(0).map((a) => a.lines)].flat();
    await preparers.drop();
    for (let i = 0; i < again.length; i += CHUNK) dispatch(again.slice(i, i + CHUNK));
  };
  try {
    let chunk: Line[] = [];
    let n = 0;
    for await (const text of lines) {
      n++;
      if (n <= from || !text.trim()) continue;
      chunk.push([n, text]);
      if (chunk.length < CHUNK) continue;
      dispatch(chunk);
      chunk = [];
      while (ahead.length >= AHEAD) await take();
    }
    if (chunk.length) dispatch(chunk);
    while (ahead.length) await take();
    if (batch.length || errors.length || n > from) await flush(n);
  } finally {
    // Those of the caller are the caller's to stop (kept for its next source).
    if (!preparation) await preparers.drop();
  }
}
