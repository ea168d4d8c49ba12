import { spawn, type ChildProcess } from 'node:child_process';
import { openSync, readFileSync } from 'node:fs';

/** A server process of the benchmark (Maillage or the ceiling), its output going to a log file. */
export interface BenchProcess {
  name: string;
  /** e.g. http://127.0.0.1:18080 */
  url: string;
  pid: number;
  stop(): Promise<void>;
}

/**
 * Starts `node <args>` and waits until `ready` answers 200. Fixed ports keep this simple: the
 * bench runs one server of each kind at a time.
 */
export async function startProcess(opts: {
  name: string;
  args: string[];
  port: number;
  env: Record<string, string>;
  ready: string;
  logFile: string;
}): Promise<BenchProcess> {
  const log = openSync(opts.logFile, 'a');
  const child = spawn(process.execPath, opts.args, {
    env: { ...process.env, ...opts.env, PORT: String(opts.port) },
    stdio: ['ignore', log, log],
  });
  const url = `http://127.0.0.1:${opts.port}`;
  await waitReady(child, `${url}${opts.ready}`, opts);
  return {
    name: opts.name,
    url,
    pid: child.pid as number,
    stop: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

/** Waits until `url` answers 200 (two minutes at most); fails at once if the process exited. */
export async function waitReady(child: ChildProcess, url: string, opts: { name: string; logFile?: string }): Promise<void> {
  const deadline = Date.now() + 120_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) {
      throw new Error(`${opts.name} exited with code ${child.exitCode}${opts.logFile ? `; see ${opts.logFile}:\n${tail(opts.logFile)}` : ''}`);
    }
    try {
      if ((await fetch(url)).status === 200) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  child.kill('SIGKILL');
  throw new Error(`${opts.name} was not ready at ${url} within 120 s${opts.logFile ? `; see ${opts.logFile}` : ''}`);
}

function tail(file: string): string {
  return readFileSync(file, 'utf8').split('\n').slice(-20).join('\n');
}

/** Resident memory of a process in bytes (Linux: VmRSS of /proc/<pid>/status). */
export function rss(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) * 1024 : NaN;
}

/** CPU time a process has used, user plus system, in seconds (/proc/<pid>/stat, ticks of 1/100 s). */
export function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name in parentheses: state is field 3, utime 14, stime 15.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}
