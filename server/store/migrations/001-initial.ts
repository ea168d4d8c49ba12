/**
 * Resources, their history, and the search index tables.
 *
 * `resource` holds the current version of every resource (a row per type/id, kept after a delete as
 * a tombstone), `resource_version` every version ever written. `rid` is an internal surrogate key
 * that the index tables use, so they stay narrow.
 *
 * Index tables hold one row per value a SearchParameter extracts from the current version, typed
 * like HAPI's (string, token, date, number, quantity, uri, reference). String values are stored
 * normalised (lower case, no accents) beside the exact text.
 */
export const statements = [
  `CREATE EXTENSION IF NOT EXISTS pg_trgm`,
  `CREATE TABLE resource (
     rid bigserial PRIMARY KEY,
     type text NOT NULL,
     id text NOT NULL,
     version integer NOT NULL,
     last_updated timestamptz NOT NULL,
     deleted boolean NOT NULL DEFAULT false,
     content text,
     UNIQUE (type, id)
   )`,
  `CREATE INDEX resource_type_updated ON resource (type, last_updated)`,
  `CREATE TABLE resource_version (
     rid bigint NOT NULL REFERENCES resource (rid),
     version integer NOT NULL,
     type text NOT NULL,
     id text NOT NULL,
     last_updated timestamptz NOT NULL,
     method text NOT NULL,
     content text,
     PRIMARY KEY (rid, version)
   )`,
  `CREATE INDEX resource_version_updated ON resource_version (last_updated)`,
  `CREATE INDEX resource_version_type_updated ON resource_version (type, last_updated)`,

  `CREATE TABLE sp_string (rid bigint NOT NULL, type text NOT NULL, param text NOT NULL, value text NOT NULL, exact text NOT NULL)`,
  `CREATE INDEX sp_string_value ON sp_string (type, param, value text_pattern_ops)`,
  `CREATE INDEX sp_string_trgm ON sp_string USING gin (value gin_trgm_ops)`,
  `CREATE INDEX sp_string_rid ON sp_string (rid)`,

  `CREATE TABLE sp_token (rid bigint NOT NULL, type text NOT NULL, param text NOT NULL, system text, code text, text text)`,
  `CREATE INDEX sp_token_code ON sp_token (type, param, code, system)`,
  `CREATE INDEX sp_token_rid ON sp_token (rid)`,

  `CREATE TABLE sp_date (rid bigint NOT NULL, type text NOT NULL, param text NOT NULL, low timestamptz NOT NULL, high timestamptz NOT NULL)`,
  `CREATE INDEX sp_date_low ON sp_date (type, param, low)`,
  `CREATE INDEX sp_date_high ON sp_date (type, param, high)`,
  `CREATE INDEX sp_date_rid ON sp_date (rid)`,

  `CREATE TABLE sp_number (rid bigint NOT NULL, type text NOT NULL, param text NOT NULL, value numeric NOT NULL, low numeric NOT NULL, high numeric NOT NULL)`,
  `CREATE INDEX sp_number_value ON sp_number (type, param, value)`,
  `CREATE INDEX sp_number_rid ON sp_number (rid)`,

  `CREATE TABLE sp_quantity (rid bigint NOT NULL, type text NOT NULL, param text NOT NULL, system text, code text, unit text, value numeric NOT NULL, low numeric NOT NULL, high numeric NOT NULL)`,
  `CREATE INDEX sp_quantity_value ON sp_quantity (type, param, value)`,
  `CREATE INDEX sp_quantity_rid ON sp_quantity (rid)`,

  `CREATE TABLE sp_uri (rid bigint NOT NULL, type text NOT NULL, param text NOT NULL, value text NOT NULL)`,
  `CREATE INDEX sp_uri_value ON sp_uri (type, param, value)`,
  `CREATE INDEX sp_uri_rid ON sp_uri (rid)`,

  `CREATE TABLE sp_reference (rid bigint NOT NULL, type text NOT NULL, param text NOT NULL, target_type text, target_id text, url text)`,
  `CREATE INDEX sp_reference_target ON sp_reference (type, param, target_id, target_type)`,
  `CREATE INDEX sp_reference_reverse ON sp_reference (target_type, target_id)`,
  `CREATE INDEX sp_reference_url ON sp_reference (type, param, url)`,
  `CREATE INDEX sp_reference_rid ON sp_reference (rid)`,
];
