import type { Database, Queryable } from '../store/db.js';
import { isConformanceType } from '../validation/registry-sync.js';
import { writeBatch, type ImportOptions, type LineError, type Prepared } from './import-write.js';
import { startPreparers, type Line, type Preparers } from './prepare-pool.js';

/** Resources per transaction: thousands make COPY pay, and a crash loses no more. */
export const BATCH_SIZE = 2000;
/** Lines per task of a worker thread: enough that handing them over costs little. */
const CHUNK = 200;
/** Chunks being prepared ahead of the batch being written. */
const AHEAD = 16;
/** Lines of a source past which they are prepared in worker threads (which take seconds to start). */
export const THREADS_AFTER = 1000;

/**
 * What a committed batch tells its caller, in the batch's transaction: the lines done so far in
 * the source (where to resume), the resources written and the lines refused.
 */
export type Commit = (tx: Queryable, linesDone: number, written: Prepared[], errors: LineError[]) => Promise<void>;

/** Types whose writes change how the following lines are checked or indexed. */
const changesChecks = (type: string) => type === 'SearchParameter' || isConformanceType(type);

/**
 * Imports the NDJSON lines of one source from line `from` + 1 on (those before were done by an
 * earlier run): parsed, checked and indexed in worker threads on every core (prepare-pool.ts),
 * chunks ahead of the batch being written, so that the processors and the database work at once.
 * A blank line is skipped; a bad one reported with its number and reason, the others going in. A
 * resource named twice in a batch ends the batch before its second line, so that the second
 * version follows the first. After a batch that wrote profiles or SearchParameters, the lines
 * prepared ahead are prepared again with them in force.
 */
export async function importLines(db: Database, o: ImportOptions, source: string, lines: AsyncIterable<string>, from: number, commit: Commit): Promise<void> {
  let preparers: Preparers | undefined;
  const ahead: { lines: Line[]; prepared: Promise<(Prepared | string)[]> }[] = [];
  let batch: Prepared[] = [];
  let errors: LineError[] = [];
  let keys = new Set<string>();
  let stale = false;
  let threaded = false;
  let dispatched = 0;
  const dispatch = async (chunk: Line[]) => {
    dispatched += chunk.length;
    if (!threaded && dispatched > THREADS_AFTER) {
      await preparers?.close();
      preparers = undefined;
      threaded = true;
    }
    preparers ??= await startPreparers(db, o, threaded);
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
    const results = await prepared;
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
  /** Prepares again, with threads started anew, the lines prepared before what is in force changed. */
  const restart = async (rest: Line[]) => {
    stale = false;
    const again = [rest, ...ahead.splice(0).map((a) => a.lines)].flat();
    await preparers?.close();
    preparers = undefined;
    for (let i = 0; i < again.length; i += CHUNK) await dispatch(again.slice(i, i + CHUNK));
  };
  try {
    let chunk: Line[] = [];
    let n = 0;
    for await (const text of lines) {
      n++;
      if (n <= from || !text.trim()) continue;
      chunk.push([n, text]);
      if (chunk.length < CHUNK) continue;
      await dispatch(chunk);
      chunk = [];
      while (ahead.length >= AHEAD) await take();
    }
    if (chunk.length) await dispatch(chunk);
    while (ahead.length) await take();
    if (batch.length || errors.length || n > from) await flush(n);
  } finally {
    await preparers?.close();
  }
}
