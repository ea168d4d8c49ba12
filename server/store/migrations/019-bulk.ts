/**
 * Bulk data jobs ($export, $import) and their files, in the database: any server process answers
 * a job's status and serves its files, whichever process runs it. A file is kept as numbered
 * chunks of NDJSON lines, written and read one at a time, so that neither side holds a whole file.
 * Deleting a job (a cancel, its expiry) deletes its files with it.
 */
export const statements = [
  `CREATE TABLE bulk_job (
     id uuid PRIMARY KEY,
     kind text NOT NULL CHECK (kind IN ('export', 'import')),
     status text NOT NULL CHECK (status IN ('queued', 'running', 'completed', 'failed')),
     request text NOT NULL,
     params json NOT NULL,
     owner text,
     progress text,
     created timestamptz NOT NULL DEFAULT now(),
     heartbeat timestamptz,
     transaction_time timestamptz,
     finished timestamptz,
     expires timestamptz,
     result json
   )`,
  `CREATE INDEX bulk_job_queue ON bulk_job (kind, created) WHERE status IN ('queued', 'running')`,
  `CREATE INDEX bulk_job_expires ON bulk_job (expires) WHERE expires IS NOT NULL`,
  `CREATE TABLE bulk_file (
     job uuid NOT NULL REFERENCES bulk_job (id) ON DELETE CASCADE,
     n integer NOT NULL,
     role text NOT NULL CHECK (role IN ('output', 'error', 'input')),
     type text NOT NULL,
     count integer NOT NULL DEFAULT 0,
     PRIMARY KEY (job, n)
   )`,
  `CREATE TABLE bulk_chunk (
     job uuid NOT NULL,
     n integer NOT NULL,
     seq integer NOT NULL,
     data text NOT NULL,
     PRIMARY KEY (job, n, seq),
     FOREIGN KEY (job, n) REFERENCES bulk_file (job, n) ON DELETE CASCADE
   )`,
];
