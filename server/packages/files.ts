import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import type { Resource } from '@medplum/fhirtypes';

/** The manifest of a FHIR package (npm format: package/package.json). */
export interface PackageManifest {
  name: string;
  version: string;
  canonical?: string;
  fhirVersions?: string[];
  dependencies?: Record<string, string>;
}

/** A FHIR package read into memory: its manifest and the resources of its `package/` folder. */
export interface FhirPackage {
  manifest: PackageManifest;
  /** The conformance and other resources at the top of package/ (examples are not loaded). */
  resources: Resource[];
  /** The resources of package/example/, for tests and the bench. */
  examples: Resource[];
}

/** Reads a package from a .tgz file or from a folder holding `package/` (or being it). */
export function readPackage(path: string): FhirPackage {
  return packageOf(statSync(path).isDirectory() ? folderFiles(path) : tarFiles(gunzipSync(readFileSync(path))), path);
}

/** Reads a package from the bytes of its .tgz (an upload, a registry download). */
export function readPackageTgz(tgz: Buffer, name = 'the package'): FhirPackage {
  let tar: Buffer;
  try {
    tar = gunzipSync(tgz);
  } catch {
    throw new Error(`${name} is not a gzipped tarball`);
  }
  return packageOf(tarFiles(tar), name);
}

function packageOf(files: Map<string, Buffer>, path: string): FhirPackage {
  const manifestText = files.get('package/package.json');
  if (!manifestText) throw new Error(`${path} is not a FHIR package: it has no package/package.json`);
  const manifest = JSON.parse(manifestText.toString('utf8')) as PackageManifest;
  if (!manifest.name || !manifest.version) throw new Error(`${path}: package.json names no name or version`);
  const resources: Resource[] = [];
  const examples: Resource[] = [];
  for (const [name, content] of files) {
    const m = /^package\/(example\/)?([^/]+\.json)$/.exec(name);
    if (!m || m[2] === 'package.json' || m[2].startsWith('.')) continue;
    const json = parseJson(content);
    if (!isResource(json)) continue;
    (m[1] ? examples : resources).push(json);
  }
  return { manifest, resources, examples };
}

function parseJson(content: Buffer): unknown {
  try {
    return JSON.parse(content.toString('utf8').replace(/^\uFEFF/, ''));
  } catch {
    return undefined;
  }
}

function isResource(json: unknown): json is Resource {
  return typeof json === 'object' && json !== null && typeof (json as Resource).resourceType === 'string';
}

/** The JSON files of a package folder, named as in its tarball (package/...). */
function folderFiles(root: string): Map<string, Buffer> {
  const base = statSafe(join(root, 'package', 'package.json')) ? join(root, 'package') : root;
  const files = new Map<string, Buffer>();
  for (const sub of ['', 'example']) {
    const dir = join(base, sub);
    if (!statSafe(dir)?.isDirectory()) continue;
    for (const name of readdirSync(dir)) {
      if (name.endsWith('.json')) files.set(`package/${sub ? `${sub}/` : ''}${name}`, readFileSync(join(dir, name)));
    }
  }
  return files;
}

function statSafe(path: string) {
  try {
    return statSync(path);
  } catch {
    return undefined;
  }
}

/**
 * The regular files of a tar archive (ustar, with pax or GNU long names), by path. FHIR packages
 * are plain npm tarballs: no links or sparse files to care about.
 */
export function tarFiles(tar: Buffer): Map<string, Buffer> {
  const files = new Map<string, Buffer>();
  let longName: string | undefined;
  for (let offset = 0; offset + 512 <= tar.length; ) {
    const header = tar.subarray(offset, offset + 512);
    if (header.every((b) => b === 0)) break;
    const field = (start: number, length: number) =>
      header
        .subarray(start, start + length)
        .toString('utf8')
        .replace(/\0.*$/s, '');
    const size = parseInt(field(124, 12).trim() || '0', 8);
    const type = field(156, 1);
    const body = tar.subarray(offset + 512, offset + 512 + size);
    offset += 512 + Math.ceil(size / 512) * 512;
    if (type === 'x') {
      longName = /(?:^|\n)\d+ path=([^\n]*)\n/.exec(body.toString('utf8'))?.[1] ?? longName;
      continue;
    }
    if (type === 'L') {
      longName = body.toString('utf8').replace(/\0.*$/s, '');
      continue;
    }
    const prefix = field(345, 155);
    const name = longName ?? (prefix ? `${prefix}/${field(0, 100)}` : field(0, 100));
    longName = undefined;
    // npm tarballs put everything under package/; some tools write ./package/.
    if (type === '0' || type === '') files.set(name.replace(/^\.\//, ''), Buffer.from(body));
  }
  return files;
}
