import { executeSearch } from '../search/execute.js';
import { isSupportedParam } from '../search/parse.js';
import { SqlParams } from '../search/sql-params.js';
import { storedColumns, visible } from '../search/sql.js';
import { readCurrent, readHistory, readVersion, someVersionVisible, type StoredVersion } from '../store/resources.js';
import type { Store } from './store.js';

/**
 * The resource tables (store/resources.ts, searched by the engine): every type but those kept
 * apart. Versions are kept, each judged on the patients it names.
 */
export const resourceTables: Store = {
  judgesVersions: true,
  read: (q, type, id) => readCurrent(q, type, id),
  // Both prepared: the same text for any number of ids, and every read or write by id runs them.
  async readIfVisible(q, type, id, visibility) {
    const p = new SqlParams();
    const sql = `SELECT ${storedColumns('r')}, ${visible('r', [type], p, visibility)} AS visible FROM resource r WHERE r.type = ${p.add(type)} AND r.id = ${p.add(id)}`;
    return (await q.query<StoredVersion & { visible: boolean }>(sql, p.values, { prepare: true }))[0];
  },
  async visibleIds(q, type, ids, visibility) {
    const p = new SqlParams();
    const sql = `SELECT r.id FROM resource r WHERE r.type = ${p.add(type)} AND r.id = ANY(${p.add(ids)}::text[]) AND ${visible('r', [type], p, visibility)}`;
    return (await q.query<{ id: string }>(sql, p.values, { prepare: true })).map((row) => row.id);
  },
  version: readVersion,
  someVersionVisible,
  history: (q, h) => readHistory(q, h),
  search: executeSearch,
  searches: isSupportedParam,
  describe: (resource) => resource,
};
