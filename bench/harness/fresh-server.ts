import { spawn } from 'node:child_process';
import { freePort } from '../../tests/harness.js';
import { databaseUrl, dropDatabase, recreateDatabase } from './database.js';
import { waitReady } from './processes.js';

/**
 * `maillage serve` from the checkout in `dir` (AUTH off, nothing seeded, no terminology) on a
 * PostgreSQL database of its own named after `prefix`, on a free port: its FHIR base, and what
 * stops it and drops the database. Its errors go to this process's stderr.
 */
export async function serveOnFreshDatabase(prefix: string, opts: { dir?: string; env?: Record<string, string> } = {}) {
  const name = `${prefix}_${Math.random().toString(36).slice(2, 8)}`;
  await recreateDatabase(name);
  const port = await freePort();
  const child = spawn(process.execPath, ['--import', 'tsx', 'cli/maillage.ts', 'serve'], {
    cwd: opts.dir,
    env: {
      ...process.env,
      AUTH: 'off',
      SEED: 'none',
      TERMINOLOGY: 'none',
      LOG_LEVEL: 'warn',
      ...opts.env,
      PORT: String(port),
      DATABASE_URL: databaseUrl(name),
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const url = `http://127.0.0.1:${port}`;
  await waitReady(child, `${url}/readyz`, { name });
  return {
    base: `${url}/fhir`,
    stop: async () => {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        await new Promise((r) => child.once('exit', r));
      }
      await dropDatabase(name);
    },
  };
}
