import { writeFileSync } from 'node:fs';
import { dropTemplates, postgresTemplates } from './snapshot-builds.js';

/**
 * Builds the PostgreSQL templates in a process of their own, beside the PGlite snapshots the
 * global setup builds meanwhile (a process follows one database at a time: its registry of
 * SearchParameters is module state). Writes `{ names, created }` to the file named by its
 * argument; on failure, drops what it created.
 */
const created: string[] = [];
try {
  const names = await postgresTemplates(created);
  writeFileSync(process.argv[2], JSON.stringify({ names, created }));
} catch (err) {
  await dropTemplates(created);
  throw err;
}
