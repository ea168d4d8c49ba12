#!/usr/bin/env node
// Builds the server (tsc) and the coordination app (vite) into dist/, each only when its sources
// are newer than its output (`--always`: both, whatever their age). The app is built aside, then
// moved in: a running server never serves an empty or half-written dist/app, and the bundles a page
// already loaded stay (their hashed names never clash; those of older builds go after a day).
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync, utimesSync } from 'node:fs';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..');
const always = process.argv.includes('--always');
const DAY = 86_400_000;

/** The newest modification time of the files under these paths (0: none). */
function newest(paths) {
  let latest = 0;
  for (const path of paths.map((p) => join(root, p))) {
    if (!existsSync(path)) continue;
    const stat = statSync(path);
    if (!stat.isDirectory()) latest = Math.max(latest, stat.mtimeMs);
    else for (const entry of readdirSync(path, { recursive: true })) latest = Math.max(latest, statSync(join(path, entry)).mtimeMs);
  }
  return latest;
}
const age = (path) => (existsSync(join(root, path)) ? statSync(join(root, path)).mtimeMs : 0);
const run = (args) => execFileSync(process.execPath, args, { cwd: root, stdio: 'inherit' });
const bin = (pkg, file) => join(root, 'node_modules', pkg, 'bin', file);
const shared = ['package-lock.json', 'tsconfig.json'];

if (always || newest(['cli', 'server', 'seed', 'tsconfig.build.json', ...shared]) > age('dist/.tsbuildinfo')) {
  console.log('building the server (tsc)');
  run([bin('typescript', 'tsc'), '-p', 'tsconfig.build.json']);
  // tsc leaves its build info untouched when nothing changed: its date says "built from these sources".
  const info = join(root, 'dist/.tsbuildinfo');
  if (existsSync(info)) utimesSync(info, new Date(), new Date());
}

if (always || newest(['app', ...shared]) > age('dist/app/index.html')) {
  console.log('building the coordination app (vite)');
  const aside = join(root, 'dist/.app-build');
  run([bin('vite', 'vite.js'), 'build', '--config', 'app/vite.config.ts', '--logLevel', 'warn', '--outDir', aside, '--emptyOutDir']);
  const app = join(root, 'dist/app');
  const fresh = new Set(readdirSync(join(aside, 'assets')));
  mkdirSync(join(app, 'assets'), { recursive: true });
  for (const name of fresh) copyFileSync(join(aside, 'assets', name), join(app, 'assets', name));
  for (const name of readdirSync(aside)) {
    if (name === 'assets') continue;
    // A rename replaces the page at once: no request reads it half-written.
    if (statSync(join(aside, name)).isDirectory()) rmSync(join(app, name), { recursive: true, force: true });
    renameSync(join(aside, name), join(app, name));
  }
  for (const name of readdirSync(join(app, 'assets')))
    if (!fresh.has(name) && Date.now() - statSync(join(app, 'assets', name)).mtimeMs > DAY) rmSync(join(app, 'assets', name));
  rmSync(aside, { recursive: true, force: true });
}
