import type { Resource } from '@medplum/fhirtypes';
import type { Database } from '../store/db.js';
import { writeIndex } from '../store/search-index.js';
import { namedPatients } from './compartments.js';
import { extractIndex } from './extract.js';
import { syncSearchParameters } from './loaded-params.js';

const BATCH = 500;

export interface ReindexProgress {
  done: number;
  total: number;
}

/**
 * Rebuilds the search index of the live resources (of one type, or all) with the parameters in
 * force, e.g. after SearchParameters were loaded. Works in batches by row id, each in its own
 * transaction with its rows locked, so concurrent writes are neither lost nor overwritten with
 * stale index rows; reports progress after each batch.
 */
export async function reindex(
  db: Database,
  fhirBase: string,
  type: string | undefined,
  onProgress: (p: ReindexProgress) => void = () => undefined,
): Promise<number> {
  await syncSearchParameters(db);
  const filter = type ? 'AND type = $2' : '';
  const [{ n: total }] = await db.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM resource WHERE NOT deleted ${type ? 'AND type = $1' : ''}`,
    type ? [type] : [],
  );
  let after = 0;
  let done = 0;
  for (;;) {
    const count = await db.transaction(async (tx) => {
      const rows = await tx.query<{ rid: number; type: string; id: string; content: string }>(
        `SELECT rid, type, id, content FROM resource WHERE rid > $1 AND NOT deleted ${filter} ORDER BY rid LIMIT ${BATCH} FOR UPDATE`,
        type ? [after, type] : [after],
      );
      for (const row of rows) {
        const index = extractIndex(JSON.parse(row.content) as Resource, fhirBase);
        await writeIndex(tx, row.rid, row.type, index, namedPatients(row.type, row.id, index));
      }
      if (rows.length) after = rows[rows.length - 1].rid;
      return rows.length;
    });
    if (!count) break;
    done += count;
    onProgress({ done, total: Math.max(total, done) });
  }
  return done;
}
