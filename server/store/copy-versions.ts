import type { CareLink } from './care-links.js';
import { copyRow } from './copy-text.js';
import type { Queryable } from './db.js';
import type { IndexRows } from './index-tables.js';
import { interactionOf, type NewVersion } from './resources.js';
import { copyIndex } from './search-index.js';

/** A new resource's first version, as a bulk write takes it. */
export interface CopiedVersion {
  version: NewVersion;
  index: IndexRows;
  links?: CareLink[];
}

/**
 * Writes the first versions of new resources with COPY, the cheapest way PostgreSQL takes rows
 * in: their row ids drawn from the sequence first, then for all of them at once the current rows,
 * history rows, change feed rows (store/migrations/018-change-feed.ts), care links and index rows
 * — what writeVersion writes for one, row for row. A resource already there fails the whole
 * COPY (unique key): callers write only resources they found absent, rows locked.
 */
export async function copyVersions(q: Queryable, versions: CopiedVersion[]): Promise<void> {
  if (!versions.length) return;
  const rids = await q.query<{ rid: number }>(`SELECT nextval(pg_get_serial_sequence('resource', 'rid')) AS rid FROM generate_series(1, $1)`, [
    versions.length,
  ]);
  let resources = '';
  let history = '';
  let feed = '';
  let links = '';
  for (const [i, { version: v, links: own }] of versions.entries()) {
    const rid = rids[i].rid;
    resources += copyRow([rid, v.type, v.id, v.version, v.lastUpdated, false, v.content]);
    history += copyRow([rid, v.version, v.type, v.id, v.lastUpdated, v.method, v.content, v.patients]);
    feed += copyRow([v.type, v.id, v.version, interactionOf(v), v.lastUpdated, v.patients]);
    for (const l of own ?? []) links += copyRow([rid, l.patient, l.kind, l.actor, l.start, l.until]);
  }
  await q.copyFrom('resource (rid, type, id, version, last_updated, deleted, content)', resources);
  await q.copyFrom('resource_version (rid, version, type, id, last_updated, method, content, patients)', history);
  await q.copyFrom('change_feed (type, id, version, interaction, at, patients)', feed);
  await q.copyFrom('care_link (rid, patient, kind, actor, start, until)', links);
  await copyIndex(
    q,
    versions.map((v, i) => ({ rid: rids[i].rid, type: v.version.type })),
    versions.map((v) => v.index),
  );
}
