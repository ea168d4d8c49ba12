/**
 * The references of a type and parameter, with their rows: a search by reference, a `_has`, and
 * the équipe-de-soins check of a broad search (access/visibility.ts, every patient reference of
 * a type against the principal's patients) read them from the index alone.
 */
export const statements = [
  `DROP INDEX sp_reference_target`,
  `CREATE INDEX sp_reference_target ON sp_reference (type, param, target_id, target_type) INCLUDE (rid)`,
];
