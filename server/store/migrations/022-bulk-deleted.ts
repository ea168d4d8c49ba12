/**
 * An export's files gain a fourth role, `deleted`: the transaction Bundles of DELETE entries a
 * `_since` export lists in its manifest's `deleted` (Bulk Data Access IG 2.0.0).
 */
export const statements = [
  `ALTER TABLE bulk_file DROP CONSTRAINT bulk_file_role_check`,
  `ALTER TABLE bulk_file ADD CONSTRAINT bulk_file_role_check CHECK (role IN ('output', 'error', 'input', 'deleted'))`,
];
