/**
 * The index of references by target alone served only `_revinclude=*` and `_revinclude=Type:*`,
 * which now name every parameter that may point at their sources and go through the index on
 * (type, param, target). It cost every write one insertion per reference, in keys shared by
 * thousands of rows (a patient is named by each AuditEvent of an access to their data): a third of
 * the cost of storing the AuditEvent of a broad search (measured at 1M resources).
 */
export const statements = ['DROP INDEX IF EXISTS sp_reference_reverse'];
