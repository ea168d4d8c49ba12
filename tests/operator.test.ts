import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../server/config.js';
import { withoutValues } from '../server/http/app.js';
import { maillage } from './cli.js';
import { pgliteFrom, spawnServer } from './harness.js';

describe('what an operator starts with', () => {
  it('loads the demo on the embedded database only, unless asked', () => {
    expect(loadConfig({}).seed).toBe('demo');
    const production = loadConfig({ DATABASE_URL: 'postgres://maillage@db/maillage' });
    expect([production.seed, production.testIdentities, production.accessRules.recordHolders]).toEqual(['none', false, []]);
    expect(loadConfig({ DATABASE_URL: 'postgres://maillage@db/maillage', SEED: 'demo' }).seed).toBe('demo');
    expect(loadConfig({ SEED: 'none' }).seed).toBe('none');
  });

  it('logs the path and the parameter names of a request, not their values', () => {
    expect(withoutValues('/fhir/Patient?family=Dupont&birthdate=1950-01-02')).toBe('/fhir/Patient?family=…&birthdate=…');
    expect(withoutValues('/fhir/Patient/p1')).toBe('/fhir/Patient/p1');
  });
});

describe('maillage commands on the embedded database of a running server', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'maillage-lock-'));
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it('are refused while the server runs, saying why, and work once it has stopped', async () => {
    const env = { DATA_DIR: dataDir, SEED: 'none' };
    // The folder holds a database already (initdb costs seconds): the snapshot of a first start.
    await (await pgliteFrom('loaded', dataDir)).close();
    const server = await spawnServer(env);
    const refused = await maillage(['user', 'list'], env);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/in use by another process \(pid \d+, a running Maillage server\?\).*Nothing was written/s);
    server.child.kill('SIGTERM');
    expect(await server.exited).toBe(0);
    const listed = await maillage(['user', 'list'], env);
    expect([listed.code, listed.stdout]).toEqual([0, 'No user yet: enrol one with maillage user add --practitioner ID [--username NAME]\n']);
  });

  it('refuses to reindex an unknown type', async () => {
    const result = await maillage(['reindex', '--type', 'Foo'], { DATA_DIR: dataDir, SEED: 'none' });
    expect([result.code, result.stderr]).toEqual([1, 'Unknown resource type: Foo (FHIR R4 names, e.g. Patient)\n']);
  });
});
