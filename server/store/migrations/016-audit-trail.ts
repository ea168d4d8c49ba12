/**
 * The audit trail in a table of its own: one narrow row per AuditEvent, its search values as
 * columns (patients and agents under GIN, the time and id in the order of search pages), the
 * AuditEvent built from the access record when read. Stored as resources, an AuditEvent cost a
 * current row, a history row and eleven index rows (55 WAL records, 9.7 kB under load): with one
 * per request, the trail took half of what the équipe-de-soins rules and audit add to a read.
 * The AuditEvents stored before move here as they are (`content`), their search values read
 * from them.
 */
const TABLES = ['sp_token', 'sp_string', 'sp_date', 'sp_number', 'sp_quantity', 'sp_uri', 'sp_reference', 'sp_text'];

/** The ids of the patients some references (`refs`, a query of one column) point to. */
const patientIds = (refs: string) =>
  `ARRAY(SELECT DISTINCT substring(x FROM '(?:^|/)Patient/([A-Za-z0-9\\-.]{1,64})(?:/_history/[^/]*)?$') FROM (${refs}) AS refs(x)
          WHERE x ~ '(?:^|/)Patient/[A-Za-z0-9\\-.]{1,64}(?:/_history/[^/]*)?$')`;

export const statements = [
  `CREATE TABLE audit_trail (
     id uuid PRIMARY KEY,
     recorded timestamptz NOT NULL,
     type text NOT NULL,
     subtype text[] NOT NULL,
     action text,
     outcome text,
     patients text[] NOT NULL,
     agents text[] NOT NULL,
     client text,
     entities text[] NOT NULL,
     record json,
     content text,
     CHECK ((record IS NULL) <> (content IS NULL))
   )`,
  // The trail's order: a page of the latest events is read from the end of the index, where a
  // sort would go through the whole trail.
  `CREATE INDEX audit_trail_recorded ON audit_trail (recorded, id)`,
  `CREATE INDEX audit_trail_patients ON audit_trail USING gin (patients)`,
  `CREATE INDEX audit_trail_agents ON audit_trail USING gin (agents)`,
  `DO $$
   BEGIN
     IF EXISTS (SELECT 1 FROM pg_settings WHERE name = 'default_toast_compression' AND 'lz4' = ANY (enumvals)) THEN
       ALTER TABLE audit_trail ALTER COLUMN record SET COMPRESSION lz4;
       ALTER TABLE audit_trail ALTER COLUMN content SET COMPRESSION lz4;
     END IF;
   END $$`,
  `INSERT INTO audit_trail (id, recorded, type, subtype, action, outcome, patients, agents, client, entities, content)
   SELECT CASE WHEN r.id ~ '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$' THEN r.id::uuid ELSE gen_random_uuid() END,
          coalesce((c->>'recorded')::timestamptz, r.last_updated),
          coalesce(c->'type'->>'system', '') || '|' || coalesce(c->'type'->>'code', ''),
          ARRAY(SELECT coalesce(s->>'system', '') || '|' || coalesce(s->>'code', '') FROM jsonb_array_elements(coalesce(c->'subtype', '[]')) s),
          c->>'action',
          c->>'outcome',
          ${patientIds(`SELECT e->'what'->>'reference' FROM jsonb_array_elements(coalesce(c->'entity', '[]')) e
                        UNION ALL SELECT a->'who'->>'reference' FROM jsonb_array_elements(coalesce(c->'agent', '[]')) a`)},
          ARRAY(SELECT a->'who'->>'reference' FROM jsonb_array_elements(coalesce(c->'agent', '[]')) a WHERE a->'who'->>'reference' IS NOT NULL),
          (SELECT a->'who'->'identifier'->>'value' FROM jsonb_array_elements(coalesce(c->'agent', '[]')) a
            WHERE a->'who'->'identifier'->>'system' = 'https://fhir.maillage.fr/oauth-client' LIMIT 1),
          ARRAY(SELECT regexp_replace(e->'what'->>'reference', '/_history/[^/]*$', '') FROM jsonb_array_elements(coalesce(c->'entity', '[]')) e
                 WHERE e->'what'->>'reference' IS NOT NULL AND e->'what'->>'reference' !~ '(?:^|/)Patient/'),
          r.content
     FROM resource r CROSS JOIN LATERAL (SELECT r.content::jsonb AS c) j
    WHERE r.type = 'AuditEvent' AND NOT r.deleted`,
  ...TABLES.map((t) => `DELETE FROM ${t} WHERE type = 'AuditEvent'`),
  `DELETE FROM resource_version WHERE type = 'AuditEvent'`,
  `DELETE FROM resource WHERE type = 'AuditEvent'`,
];
