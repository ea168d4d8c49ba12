import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

/** The data folders this process holds, so that a lock file naming its own pid is told from one left by a former life (a container's pid 1). */
const held = new Set<string>();

/** Another process has the embedded database open. */
export class DataDirInUse extends Error {}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists, under another user.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Takes the embedded database's folder for this process: PGlite is one process's database, and a
 * second process opening it (a `maillage` command beside a running server) would lose its writes
 * when the first one next writes, or abort. A lock left by a process that has ended is taken over.
 * Returns what lets it go.
 */
export function lockDataDir(dir: string): () => void {
  const path = resolve(dir);
  const file = join(path, 'maillage.lock');
  if (held.has(path)) throw new DataDirInUse(`The embedded database in ${path} is already open in this process`);
  for (let attempt = 0; ; attempt++) {
    try {
      writeFileSync(file, `${process.pid}\n`, { flag: 'wx' });
      held.add(path);
      return () => {
        held.delete(path);
        rmSync(file, { force: true });
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST' || attempt > 2) throw err;
    }
    const pid = Number.parseInt(readFileSync(file, 'utf8'), 10);
    if (pid && pid !== process.pid && alive(pid))
      throw new DataDirInUse(
        `The embedded database in ${path} is in use by another process (pid ${pid}, a running Maillage server?). ` +
          'Only one process may open it: stop that server and run this command again, or, while it runs, use its ' +
          'HTTP API (/auth/admin/users, /fhir). Nothing was written.',
      );
    rmSync(file, { force: true });
  }
}
