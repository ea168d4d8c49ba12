import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CodeSystem } from '@medplum/fhirtypes';
import { describe, expect, it } from 'vitest';
import { DATABASES, useServer } from '../../tests/harness.js';
import { createLogger } from '../logger.js';
import { openPglite } from '../store/db.js';
import { bundledTerminology } from '../terminology/bundled.js';
import { NOS } from '../terminology/fixtures.js';
import { readRelease } from '../terminology/release.js';
import { installTerminology } from './terminology-install.js';

// `#` would end a URL: the folders are appended to the path.
const SHARED = `${process.env.FHIR_PACKAGES ?? fileURLToPath(new URL('../../../shared/fhir', import.meta.url))}/`;
const EXTRACT = `${SHARED}ans.fr.terminologies#1.12.0-extract/`;
const R38 = NOS('TRE_R38-SpecialiteOrdinale');
const G15 = NOS('TRE_G15-ProfessionSante');
const silent = createLogger('silent');

describe.each(DATABASES)('installing the NOS terminology on %s', (kind) => {
  const t = useServer(kind, { terminology: 'nos' });
  const install = (resources: ReturnType<typeof bundledTerminology>) => installTerminology(t.server.db, t.server.url, silent, resources);
  const versions = async (type: string, url: string) =>
    (await t.api.get(`${type}?url=${encodeURIComponent(url)}`)).body.entry.map((e: { resource: { version: string } }) => e.resource.version).sort();

  it('holds every code system and value set of terminology/nos after start, and writes nothing more at the next', async () => {
    const bundled = bundledTerminology();
    for (const type of ['CodeSystem', 'ValueSet']) {
      // Maillage's own profiles (profiles/) may bring value sets of their own.
      const held = await t.api.get(`${type}?_count=200&_elements=url`);
      const urls = held.body.entry.map((e: { resource: { url: string } }) => e.resource.url);
      expect(urls).toEqual(expect.arrayContaining(bundled.filter((r) => r.resourceType === type).map((r) => r.url)));
    }
    expect(bundled.length).toBeGreaterThanOrEqual(31);
    expect(await install(bundled)).toEqual([]);
  });

  it('replaces an older version and its own changed transcription, and keeps a newer release', async () => {
    const [r38, r81] = ['TRE-R38-SpecialiteOrdinale', 'TRE-R81-Civilite'].map((id) => bundledTerminology().find((r) => r.id === id) as CodeSystem);
    expect((await t.api.put('CodeSystem/TRE-R38-SpecialiteOrdinale', { ...r38, version: '1.3.0', meta: undefined })).status).toBe(200);
    expect((await t.api.put('CodeSystem/TRE-R81-Civilite', { ...r81, version: '20990101120000', meta: undefined })).status).toBe(200);
    const changed = { ...r38, meta: { source: `${r38.meta?.source}-changed` } };
    expect((await install([r38, r81])).map((r) => r.id)).toEqual(['TRE-R38-SpecialiteOrdinale']);
    expect(await versions('CodeSystem', R38)).toEqual(['20240531120000']);
    expect(await versions('CodeSystem', NOS('TRE_R81-Civilite'))).toEqual(['20990101120000']);
    expect((await install([changed])).map((r) => r.id)).toEqual(['TRE-R38-SpecialiteOrdinale']);
    expect((await install([changed])).length).toBe(0);
    expect((await install([r38])).length).toBe(1);
  });

  it('lets an official release of the same version replace its transcription (ANS extract: TRE_G15 and six JDV)', async () => {
    const release = readRelease(EXTRACT);
    expect(release.map((r) => r.id).sort()).toEqual([
      'JDV-J106-EnsembleProfession-RASS',
      'JDV-J108-EnsembleFonction-RASS',
      'JDV-J79-CiviliteExercice-RASS',
      'JDV-J89-CategorieProfessionnelle-RASS',
      'JDV-J94-GenreActivite-RASS',
      'JDV-J95-ModeExercice-RASS',
      'TRE-G15-ProfessionSante',
    ]);
    expect(await install(release)).toHaveLength(7);
    expect(await install(release)).toHaveLength(0);
    // The official code system carries the ANS properties (dates of validity) that ours leaves out.
    const lookup = await t.api.get(`CodeSystem/$lookup?system=${encodeURIComponent(G15)}&code=10&property=dateValid`);
    expect(lookup.body.parameter.find((p: { name: string }) => p.name === 'property').part[0].valueCode).toBe('dateValid');
    // Maillage's own transcription does not come back over it at the next start.
    expect(await install(bundledTerminology())).toEqual([]);
  });
});

describe('maillage terminology import', () => {
  it('reads the code systems and value sets of a package folder', () => {
    const release = readRelease(`${SHARED}hl7.fhir.fr.core#2.2.0`);
    expect(release.filter((r) => r.resourceType === 'CodeSystem')).toHaveLength(26);
    expect(release.filter((r) => r.resourceType === 'ValueSet')).toHaveLength(51);
  });

  it('installs a release into the configured database', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'maillage-import-'));
    try {
      const child = spawn(process.execPath, ['--import', 'tsx', 'cli/maillage.ts', 'terminology', 'import', EXTRACT], {
        env: { ...process.env, DATA_DIR: dataDir, DATABASE_URL: '', LOG_LEVEL: 'silent' },
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      let out = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      expect(await new Promise((resolve) => child.once('exit', resolve))).toBe(0);
      expect(out).toContain('Installed 7 of 7 code systems and value sets');
      const db = await openPglite(dataDir);
      const rows = await db.query<{ id: string }>(`SELECT id FROM resource WHERE type = 'CodeSystem'`);
      await db.close();
      expect(rows.map((r) => r.id)).toEqual(['TRE-G15-ProfessionSante']);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
