import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { TestProject } from 'vitest/node';
import type { Snapshots } from './harness.js';
import { dropTemplates, pgliteSnapshots } from './snapshot-builds.js';

/**
 * Builds, once per run, the databases the test servers start from (harness.ts, Snapshot): initdb,
 * the migrations, Maillage's profiles and the terminology cost a test server seconds each, the
 * same for every one. The loaded ones are written by real first starts of a test server: the
 * PGlite ones here, the PostgreSQL ones at the same time in a child process (postgres-templates.ts).
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  // The French packages from the shared folder (CI: ../shared/fhir), never from the network.
  process.env.FHIR_PACKAGES ||= fileURLToPath(new URL('../../shared/fhir', import.meta.url));
  process.env.FHIR_PACKAGE_REGISTRY ??= 'off';
  const dir = mkdtempSync(join(tmpdir(), 'maillage-snapshots-'));
  const templates: string[] = [];
  const teardown = async () => {
    await dropTemplates(templates);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    // Both settled before a failure is told: the teardown then drops every template created.
    const [pglite, postgres] = await Promise.allSettled([pgliteSnapshots(dir), process.env.TEST_DATABASE_URL ? postgresTemplates(dir, templates) : undefined]);
    if (pglite.status === 'rejected') throw pglite.reason;
    if (postgres.status === 'rejected') throw postgres.reason;
    project.provide('snapshots', { pglite: pglite.value, ...(postgres.value ? { postgres: postgres.value } : {}) });
  } catch (err) {
    await teardown();
    throw err;
  }
  return teardown;
}

/** The PostgreSQL templates, built by a child process; `created` gets their names, to be dropped at the end. */
async function postgresTemplates(dir: string, created: string[]): Promise<Snapshots['postgres']> {
  const out = join(dir, 'postgres.json');
  const script = fileURLToPath(new URL('./postgres-templates.ts', import.meta.url));
  try {
    await promisify(execFile)(process.execPath, ['--import', 'tsx', script, out], { env: process.env, maxBuffer: 64 * 1024 * 1024 });
  } catch (err) {
    throw new Error(`Building the PostgreSQL templates failed: ${(err as { stderr?: string }).stderr || err}`);
  }
  const result = JSON.parse(readFileSync(out, 'utf8')) as { names: NonNullable<Snapshots['postgres']>; created: string[] };
  created.push(...result.created);
  return result.names;
}
