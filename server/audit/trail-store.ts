import { SqlParams } from '../search/sql-params.js';
import type { Store } from '../stores/store.js';
import { INCLUDED, searchTrail, TRAIL_PARAMS, TRAIL_SUPPORT, visibleRow } from './trail-search.js';
import { isTrailId, readTrail, TRAIL_TYPE, trailColumns, trailVersion, type TrailRow } from './trail.js';

/** What the trail answers of the RESTful interactions: it is written by the server only, and read as it was written. */
const INTERACTIONS = new Set(['read', 'vread', 'history-instance', 'history-type', 'search-type']);

/**
 * The audit trail as the interactions read it (migration 016 keeps it apart from resources): an
 * AuditEvent has one version, created when recorded, and is seen by whom the rules let see it
 * (trail-search.ts) as a whole, its version and history with it.
 */
export const trailStore: Store = {
  types: [TRAIL_TYPE],
  apart: 'the audit trail is kept apart from resources',
  readOnly: 'AuditEvents are written by the server only, and never changed or deleted',
  judgesVersions: false,
  read: (q, _type, id) => readTrail(q, id),
  async readIfVisible(q, _type, id, visibility) {
    if (!isTrailId(id)) return undefined;
    const p = new SqlParams();
    const rows = await q.query<TrailRow & { visible: boolean }>(
      `SELECT ${trailColumns('t')}, ${visibleRow(visibility, p, 'probe')} AS visible FROM audit_trail t WHERE t.id = ${p.add(id)}::uuid`,
      p.values,
      { prepare: true },
    );
    return rows[0] && { ...trailVersion(rows[0]), visible: rows[0].visible };
  },
  async visibleIds(q, _type, ids, visibility) {
    const p = new SqlParams();
    const sql = `SELECT t.id FROM audit_trail t WHERE t.id = ANY(${p.add(ids.filter(isTrailId))}::uuid[]) AND ${visibleRow(visibility, p, 'probe')}`;
    return (await q.query<{ id: string }>(sql, p.values, { prepare: true })).map((row) => row.id);
  },
  async version(q, _type, id, version) {
    const event = version === 1 ? await readTrail(q, id) : undefined;
    return event && { ...event, method: 'POST', visible: true };
  },
  someVersionVisible: async (q, _type, id) => ((await readTrail(q, id)) ? true : undefined),
  /** The trail newest first, for `AuditEvent/_history` (or one event's: `id`), within the history interaction's bounds. */
  async history(q, h) {
    if (h.id !== undefined && !isTrailId(h.id)) return { entries: [], total: 0 };
    const p = new SqlParams();
    const where = [`t.recorded <= ${p.add(h.before)}::timestamptz`, visibleRow(h.visibility, p, 'set')];
    if (h.id !== undefined) where.push(`t.id = ${p.add(h.id)}::uuid`);
    if (h.since) where.push(`t.recorded >= ${p.add(h.since)}::timestamptz`);
    if (h.at) where.push(`t.recorded <= ${p.add(h.at.high)}::timestamptz`);
    const rows = await q.query<TrailRow>(
      `SELECT ${trailColumns('t')} FROM audit_trail t WHERE ${where.join(' AND ')} ORDER BY t.recorded DESC, t.id DESC LIMIT ${Math.max(0, h.count)} OFFSET ${Math.max(0, h.offset)}`,
      p.values,
    );
    const entries = rows.map((row) => ({ ...trailVersion(row), method: 'POST' }));
    return { entries, ...(h.id !== undefined ? { total: entries.length } : {}) };
  },
  search: searchTrail,
  searchSupport: TRAIL_SUPPORT,
  searches: (param) => TRAIL_PARAMS.has(param.code),
  describe: (resource) => ({
    ...resource,
    interaction: (resource.interaction ?? []).filter((i) => INTERACTIONS.has(i.code)),
    versioning: 'versioned',
    updateCreate: false,
    conditionalCreate: false,
    conditionalRead: 'not-supported',
    conditionalUpdate: false,
    conditionalDelete: 'not-supported',
    searchInclude: INCLUDED.map((param) => `${TRAIL_TYPE}:${param}`),
  }),
};
