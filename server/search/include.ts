import { RECURRING, type Queryable } from '../store/db.js';
import type { StoredVersion } from '../store/resources.js';
import { rowsCondition } from './kinds/reference.js';
import { referenceRows, referencesTo } from './parameters.js';
import type { Include } from './parse.js';
import { SqlParams } from './sql-params.js';
import { storedColumns, visible } from './sql.js';
import type { Visibility } from '../access/visibility.js';

/** Bounds on what includes add to one page: rounds of :iterate, and resources. */
const MAX_ROUNDS = 4;
const MAX_INCLUDED = 1000;

/**
 * The resources `_include` and `_revinclude` add to a page: first from the matches, then, for
 * the `:iterate` ones, from what the previous round added. Each resource appears once.
 */
export async function includes(q: Queryable, specs: Include[], matches: StoredVersion[], visibility: Visibility | null): Promise<StoredVersion[]> {
  const seen = new Set(matches.map((m) => m.rid));
  const out: StoredVersion[] = [];
  let sources = matches;
  for (let round = 0; round < MAX_ROUNDS && sources.length && out.length < MAX_INCLUDED; round++) {
    const found: StoredVersion[] = [];
    for (const spec of specs) {
      if (round > 0 && !spec.iterate) continue;
      for (const row of await includeRows(q, spec, sources, visibility)) {
        if (seen.has(row.rid)) continue;
        seen.add(row.rid);
        found.push(row);
      }
    }
    out.push(...found);
    sources = found;
  }
  return out.slice(0, MAX_INCLUDED);
}

async function includeRows(q: Queryable, spec: Include, sources: StoredVersion[], visibility: Visibility | null): Promise<StoredVersion[]> {
  const p = new SqlParams();
  // The resources the references start from (forward) or point to (reverse), of the type named.
  const sourceType = spec.reverse ? spec.target : spec.type;
  const from = sources.filter((s) => !sourceType || s.type === sourceType);
  if (!from.length) return [];
  let sql: string;
  if (spec.reverse) {
    // Found through the index on (type, param, target): with every parameter that may point at
    // the sources for a `*`.
    // A parameter derived from others (referenceRows) is their rows, for sources of its target type.
    const codes = spec.param && spec.type ? [{ type: spec.type, code: spec.param }] : referencesTo(new Set(from.map((s) => s.type)), spec.type);
    const keys = codes.flatMap(({ type, code }) => {
      const rows = referenceRows(type, code);
      return rows.params.map((param) => ({ type, param, target: rows.targetType ?? null }));
    });
    if (!keys.length) return [];
    sql =
      `t.rid IN (SELECT x.rid FROM unnest(${p.add(keys.map((k) => k.type))}::text[], ${p.add(keys.map((k) => k.param))}::text[], ${p.add(keys.map((k) => k.target))}::text[]) k(type, param, target) ` +
      `CROSS JOIN unnest(${p.add(from.map((s) => s.type))}::text[], ${p.add(from.map((s) => s.id))}::text[]) s(type, id) ` +
      `JOIN sp_reference x ON x.type = k.type AND x.param = k.param AND x.target_id = s.id AND x.target_type = s.type WHERE k.target IS NULL OR k.target = s.type)`;
  } else {
    const refs = [spec.type ? `x.type = ${p.add(spec.type)}` : 'true'];
    if (spec.param) refs.push(rowsCondition(spec.type ? referenceRows(spec.type, spec.param) : { params: [spec.param] }, 'x', p));
    if (spec.target) refs.push(`x.target_type = ${p.add(spec.target)}`);
    sql = `(t.type, t.id) IN (SELECT x.target_type, x.target_id FROM sp_reference x WHERE x.rid = ANY(${p.add(from.map((s) => s.rid))}::bigint[]) AND ${refs.join(' AND ')})`;
  }
  // What a reverse include finds is of its source type; a forward one, of its target type if named.
  const found = spec.reverse ? spec.type : spec.target;
  const types = found ? [found] : [];
  return q.query<StoredVersion>(
    `SELECT ${storedColumns('t')} FROM resource t WHERE ${visible('t', types, p, visibility)} AND ${sql} LIMIT ${MAX_INCLUDED}`,
    p.values,
    RECURRING,
  );
}
