/**
 * Search engine, second step.
 *
 * - `grp` ties together the rows a composite parameter extracts from one element (its components'
 *   values are matched as a tuple); null for ordinary rows. Adding a nullable column is instant.
 * - `sp_text` holds the full-text documents of `_text` (narrative) and `_content` (every text of
 *   the resource), in the 'french' configuration, over accent-free text.
 * - Indexes that the plans of chained, reverse-chained and included searches use.
 */
const TABLES = ['string', 'token', 'date', 'number', 'quantity', 'uri', 'reference'];

export const statements = [
  ...TABLES.map((t) => `ALTER TABLE sp_${t} ADD COLUMN grp integer`),
  `CREATE TABLE sp_text (rid bigint NOT NULL, type text NOT NULL, param text NOT NULL, doc tsvector NOT NULL, grp integer)`,
  `CREATE INDEX sp_text_doc ON sp_text USING gin (doc)`,
  `CREATE INDEX sp_text_rid ON sp_text (rid)`,
];
