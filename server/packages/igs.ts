import type { Logger } from 'pino';
import type { Database } from '../store/db.js';
import type { FhirPackage } from './files.js';
import { heldVersions, installPackage } from './install.js';
import type { IgSpec } from './settings.js';
import { fromFolder, fromRegistry, preReleaseInFolder, type PackageSources } from './sources.js';

/** Whether the database holds the version, or a pre-release of it installed in its place. */
const holds = (held: string[], version: string) => held.some((v) => v === version || v.startsWith(`${version}-`));

/**
 * At start: each implementation guide of FHIR_IGS that the database does not hold yet is installed
 * with its dependencies, from FHIR_PACKAGES then the registry, as `maillage load-package` does.
 * One query per guide when all are held. A guide that cannot be installed (not at hand, a
 * dependency missing, offline) leaves the server starting without it, saying what and how to.
 */
export async function installIgs(db: Database, fhirBase: string, log: Logger, igs: IgSpec[], sources: PackageSources): Promise<void> {
  for (const { name, version } of igs) {
    const spec = `${name}#${version}`;
    if (holds(await heldVersions(db, name), version)) continue;
    try {
      const pkg = await findPackage(log, sources, name, version);
      if (!pkg) {
        const where = [sources.folder && `in FHIR_PACKAGES (${sources.folder})`, sources.registry && `at ${sources.registry}`].filter(Boolean).join(' nor ');
        log.warn(
          { package: spec },
          `FHIR package ${spec} (FHIR_IGS) is not installed: not found ${where || 'anywhere (no FHIR_PACKAGES folder, FHIR_PACKAGE_REGISTRY=off)'}. ` +
            `Its profiles are unknown until it is: put it in FHIR_PACKAGES as ${spec}/package/ or let the server reach a registry (FHIR_PACKAGE_REGISTRY), then restart, ` +
            'or load it with `maillage load-package <path>`; FHIR_IGS= (empty) asks for none.',
        );
        continue;
      }
      const started = Date.now();
      const report = await installPackage(db, fhirBase, log, pkg, sources);
      for (const warning of report.warnings) log.warn({ package: spec }, warning);
      log.info(
        { package: spec, packages: report.packages.map((p) => `${p.name}#${p.version}`), ms: Date.now() - started },
        'FHIR package installed (FHIR_IGS)',
      );
    } catch (err) {
      log.warn(
        { package: spec, err: (err as Error).message },
        `FHIR package ${spec} (FHIR_IGS) could not be installed: ${(err as Error).message}. ` +
          'The server starts without it: make the package and its dependencies reachable (FHIR_PACKAGES, FHIR_PACKAGE_REGISTRY) and restart, or use `maillage load-package <path>`.',
      );
    }
  }
}

/** The package from the folder, the registry, else a pre-release of that version in the folder (a CI build of an IG not yet published). */
async function findPackage(log: Logger, sources: PackageSources, name: string, version: string): Promise<FhirPackage | undefined> {
  const exact = fromFolder(sources.folder, name, version) ?? (await fromRegistry(sources.registry, name, version));
  if (exact) return exact;
  const pre = preReleaseInFolder(sources.folder, name, version);
  if (!pre) return undefined;
  log.warn(
    { package: `${name}#${version}` },
    `FHIR package ${name}#${version} is not at hand: its pre-release ${name}#${pre} in FHIR_PACKAGES is installed in its place`,
  );
  return fromFolder(sources.folder, name, pre);
}
