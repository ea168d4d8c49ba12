import { execFile } from 'node:child_process';

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `maillage <args>` in its own process (from source, through tsx), with `stdin` as its input. */
export function maillage(args: string[], env: Record<string, string>, stdin?: string): Promise<CliResult> {
  return new Promise((resolve) => {
    const child = execFile(
      process.execPath,
      ['--import', 'tsx', 'cli/maillage.ts', ...args],
      { env: { ...process.env, LOG_LEVEL: 'warn', TERMINOLOGY: 'none', ...env }, timeout: 60_000 },
      (err, stdout, stderr) => resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr }),
    );
    child.stdin?.end(stdin ?? '');
  });
}
