import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The folder of Maillage's package.json, found above this file (from server/ and from dist/server/). */
function findPackageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++, dir = dirname(dir)) {
    const file = join(dir, 'package.json');
    if (existsSync(file) && (JSON.parse(readFileSync(file, 'utf8')) as { name?: string }).name === 'maillage') return dir;
  }
  throw new Error('Cannot find the package.json of maillage above the server code');
}

export const PACKAGE_ROOT = findPackageRoot();
