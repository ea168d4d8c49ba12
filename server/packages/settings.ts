import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { PackageSources } from './sources.js';

/**
 * Where packages and profiles come from (environment, read when used):
 * - FHIR_PACKAGES: the local packages folder (`<id>#<version>/package/`), default ~/.fhir/packages;
 * - FHIR_PACKAGE_REGISTRY: a FHIR package registry, default https://packages.fhir.org; `off` for none;
 * - PROFILE_ENFORCEMENT: the enforcement file, default profiles/enforcement.json.
 */
export function packageSources(env: NodeJS.ProcessEnv = process.env): PackageSources {
  const registry = env.FHIR_PACKAGE_REGISTRY ?? 'https://packages.fhir.org';
  return {
    folder: env.FHIR_PACKAGES || join(homedir(), '.fhir', 'packages'),
    registry: registry === 'off' || registry === '' ? undefined : registry,
  };
}

/** Maillage's own profiles: a FHIR package folder, loaded at every start. */
export const PROFILES_DIR = [2, 3]
  .map((up) => join(dirname(fileURLToPath(import.meta.url)), ...Array<string>(up).fill('..'), 'profiles'))
  // From server/packages/ (tsx) or dist/server/packages/ (the build).
  .find((dir) => existsSync(join(dir, 'package', 'package.json'))) as string;

/**
 * The packages every start loads, in this order: Maillage's profiles, then the SAS IG's CPTS
 * aggregator subset (profiles/sas/: the ANS package as published, its FR Core 1.1.0 dependency
 * dropped from the manifest because no registry serves it; its profiles carry their snapshots).
 */
export const BUNDLED_PACKAGES = [PROFILES_DIR, join(PROFILES_DIR, 'sas')];

export function enforcementFile(env: NodeJS.ProcessEnv = process.env): string {
  return env.PROFILE_ENFORCEMENT || join(PROFILES_DIR, 'enforcement.json');
}

/** FHIR_IGS's default: FR Core, the ANS Annuaire Santé and the Cercle de soins (their dependencies come with them). */
export const DEFAULT_FHIR_IGS = 'hl7.fhir.fr.core#2.2.0,ans.fhir.fr.annuaire#1.2.0,ans.fhir.fr.cds#2.0.1';

/** An implementation guide to hold, as FHIR_IGS names it (`<id>#<version>`). */
export interface IgSpec {
  name: string;
  version: string;
}

export function parseIgs(text: string): IgSpec[] {
  return text
    .split(/[\s,]+/)
    .filter(Boolean)
    .map((spec) => {
      const [name, version] = spec.split('#');
      if (!name || !version) throw new Error(`FHIR_IGS: "${spec}" is not a package id and version (<id>#<version>)`);
      return { name, version };
    });
}
