/** One row of `care_link` (migration 006), for the resource being written. */
export interface CareLink {
  patient: string;
  kind: 'member' | 'pcp' | 'holder' | 'permit' | 'deny';
  /** `Type/id` of the professional, role or organisation; `*` for a global opposition. */
  actor: string;
  /** ISO instants, or '-infinity' / 'infinity'. */
  start: string;
  until: string;
}

/**
 * The data-modifying CTEs that replace a resource's care links, for the statement that writes the
 * resource itself (see writeVersion). `rid` is SQL giving the row id.
 */
export function careLinkCtes(rid: string, links: CareLink[] | undefined, params: unknown[], replace: boolean): string[] {
  if (!links) return [];
  const parts = replace ? [`d_care AS (DELETE FROM care_link WHERE rid = ${rid})`] : [];
  if (!links.length) return parts;
  const columns = ['patient', 'kind', 'actor', 'start', 'until'] as const;
  const placeholders = columns.map((c) => {
    params.push(links.map((l) => l[c]));
    return `$${params.length}::${c === 'start' || c === 'until' ? 'timestamptz' : 'text'}[]`;
  });
  parts.push(
    `i_care AS (INSERT INTO care_link (rid, ${columns.join(', ')})
       SELECT ${rid}, u.* FROM unnest(${placeholders.join(', ')}) AS u)`,
  );
  return parts;
}
