import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Bundle, CodeSystem, Resource, ValueSet } from '@medplum/fhirtypes';
import { ID_RE } from '../fhir/ids.js';
import { readPackage } from '../packages/files.js';

/**
 * The code systems and value sets of an official release given by an integrator: a FHIR package
 * (.tgz, or a folder holding `package/package.json`), a JSON file (a resource or a Bundle of
 * them), or a folder of such files. Other resources are left out.
 */
export function readRelease(path: string): (CodeSystem | ValueSet)[] {
  const isPackage = path.endsWith('.tgz') || existsSync(join(path, 'package', 'package.json'));
  const resources = isPackage ? readPackage(path).resources : jsonFiles(path).flatMap(resourcesOf);
  return resources.filter((r): r is CodeSystem | ValueSet => r.resourceType === 'CodeSystem' || r.resourceType === 'ValueSet').map((r) => withId(r, path));
}

const jsonFiles = (path: string): string[] =>
  statSync(path).isDirectory()
    ? readdirSync(path)
        .filter((f) => f.endsWith('.json') && !f.startsWith('.'))
        .sort()
        .map((f) => join(path, f))
    : [path];

function resourcesOf(file: string): Resource[] {
  let json: Resource;
  try {
    json = JSON.parse(readFileSync(file, 'utf8').replace(/^\uFEFF/, '')) as Resource;
  } catch (err) {
    throw new Error(`${file} is not JSON: ${(err as Error).message}`);
  }
  if (json.resourceType !== 'Bundle') return [json];
  return ((json as Bundle).entry ?? []).flatMap((e) => (e.resource ? [e.resource] : []));
}

/** A resource to be written by id: its own, else the last segment of its canonical URL. */
function withId<T extends CodeSystem | ValueSet>(r: T, path: string): T {
  if (!r.url) throw new Error(`${path}: a ${r.resourceType} without url cannot be imported`);
  const id = r.id ?? r.url.split('/').pop();
  if (!id || !ID_RE.test(id)) throw new Error(`${path}: ${r.url} has no id, and its URL gives none`);
  return { ...r, id };
}
