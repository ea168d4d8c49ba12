import type { Queryable, Database } from '../store/db.js';
import { prepareLine, writeBatch, type ImportOptions, type LineError, type Prepared } from './import-write.js';

/** Resources per transaction: a few hundred make the multi-row statements pay, and a crash loses no more. */
export const BATCH_SIZE = 500;

/**
 * What a committed batch tells its caller, in the batch's transaction: the lines done so far in
 * the source (where to resume), the resources written and the lines refused.
 */
export type Commit = (tx: Queryable, linesDone: number, written: Prepared[], errors: LineError[]) => Promise<void>;

/**
 * Imports the NDJSON lines of one source from line `from` + 1 on (those before were done by an
 * earlier run): parsed and checked here while the previous batch is being written, so that the
 * processor and the database work at once. A blank line is skipped; a bad one reported with its
 * number and reason, the others going in. A resource named twice in a batch ends the batch
 * before its second line, so that the second version follows the first.
 */
export async function importLines(db: Database, o: ImportOptions, source: string, lines: AsyncIterable<string>, from: number, commit: Commit): Promise<void> {
  let batch: Prepared[] = [];
  let errors: LineError[] = [];
  let keys = new Set<string>();
  let writing: Promise<void> | undefined;
  let n = 0;
  const flush = async (upTo: number) => {
    const [b, e] = [batch, errors];
    [batch, errors, keys] = [[], [], new Set()];
    await writing;
    writing = writeBatch(
      db,
      o.fhirBase,
      b,
      (p, reason) => e.push({ source, line: p.line, reason }),
      (tx, written) => commit(tx, upTo, written, e),
    );
    // Caught here so that an unhandled rejection never ends the process; awaited (and thrown) at the next flush.
    writing.catch(() => undefined);
  };
  for await (const text of lines) {
    n++;
    if (n <= from || !text.trim()) continue;
    const p = prepareLine(text, n, o);
    if (typeof p === 'string') {
      errors.push({ source, line: n, reason: p });
      continue;
    }
    const key = `${p.version.type}/${p.version.id}`;
    if (keys.has(key)) await flush(n - 1);
    keys.add(key);
    batch.push(p);
    if (batch.length >= BATCH_SIZE) await flush(n);
  }
  if (batch.length || errors.length || n > from) await flush(n);
  await writing;
}
