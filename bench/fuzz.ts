/**
 * The longer fuzz: the generator of tests/fuzz.test.ts (tests/fuzz-requests.ts), many more
 * requests, against a server with the demo pôle, AUTH on (a médecin's token) and AUTH off. Prints
 * the requests sent, the statuses seen, the faults (5xx, bodies that are not FHIR JSON) with the
 * requests that caused them, and the machine; exits 1 on a fault or a server no longer ready.
 *
 *   npm run bench:fuzz -- --requests 20000 [--seed N] [--postgres] (PostgreSQL: TEST_DATABASE_URL)
 */
import { Command } from 'commander';
import pg from 'pg';
import { fhirBaseOf, loadConfig } from '../server/config.js';
import { createLogger } from '../server/logger.js';
import { DEMO } from '../seed/load.js';
import { startServer } from '../server/main.js';
import { fetchCorpus, gpToken, runFuzz, type FuzzReport } from '../tests/fuzz-run.js';
import { Fuzzer } from '../tests/fuzz-requests.js';
import { freePort, freshPostgresDatabase } from '../tests/harness.js';
import { operatorToken, OPERATOR } from '../tests/smart.js';
import { describeMachine, loadAverage, machineLine } from './harness/machine.js';

interface Options {
  requests: string;
  seed: string;
  concurrency: string;
  postgres?: boolean;
}

async function fuzz(auth: boolean, opts: Options): Promise<FuzzReport & { ready: boolean }> {
  const pg = opts.postgres ? await freshPostgresDatabase() : undefined;
  const port = await freePort();
  const config = {
    ...loadConfig({}),
    port,
    origin: `http://127.0.0.1:${port}`,
    dataDir: 'memory://',
    databaseUrl: pg?.url,
    seed: 'demo' as const,
    terminology: 'none' as const,
    auth,
    logLevel: 'silent',
    ...OPERATOR,
  };
  const server = await startServer(config, createLogger('silent'), { demo: DEMO });
  try {
    const base = fhirBaseOf(config.origin);
    let token: string | undefined;
    if (auth) {
      const claire = server.demoLogins?.find((l) => l.username === 'claire');
      if (!claire) throw new Error('the demo users were not created');
      token = await gpToken(config.origin, claire);
    }
    const corpus = await fetchCorpus(base, auth ? await operatorToken(config.origin) : undefined);
    const seed = Number(opts.seed) + (auth ? 0 : 1);
    console.log(`AUTH ${auth ? 'on' : 'off'}: ${opts.requests} requests, seed ${seed}, ${corpus.length} resources to mutate (load average ${loadAverage()})`);
    const report = await runFuzz(base, new Fuzzer(seed, corpus), Number(opts.requests), { token, concurrency: Number(opts.concurrency) });
    const ready = (await fetch(`${config.origin}/readyz`)).status === 200;
    return { ...report, ready };
  } finally {
    await server.close();
    await pg?.drop();
  }
}

async function serverVersion(url: string): Promise<string> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<{ server_version: string }>('SHOW server_version')).rows[0].server_version;
  } finally {
    await client.end();
  }
}

async function main(opts: Options): Promise<void> {
  console.log(machineLine(describeMachine(opts.postgres ? await serverVersion(process.env.TEST_DATABASE_URL as string) : 'none (PGlite)')));
  let faults = 0;
  for (const auth of [true, false]) {
    const report = await fuzz(auth, opts);
    const statuses = Object.entries(report.statuses)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([status, n]) => `${status}: ${n}`)
      .join(', ');
    console.log(`  ${report.requests} requests in ${report.seconds.toFixed(0)} s (${(report.requests / report.seconds).toFixed(0)}/s); statuses ${statuses}`);
    console.log(`  faults: ${report.failures.length}; ready at the end: ${report.ready ? 'yes' : 'NO'}`);
    for (const f of report.failures.slice(0, 20)) console.log(`    #${f.index} ${f.status} ${f.request}\n      -> ${f.body.slice(0, 300)}`);
    faults += report.failures.length + (report.ready ? 0 : 1);
  }
  process.exitCode = faults ? 1 : 0;
}

await new Command('bench:fuzz')
  .description('Hostile requests against Maillage with the demo pôle, AUTH on and off: no 5xx, FHIR JSON bodies, still ready')
  .option('--requests <n>', 'requests per configuration', '20000')
  .option('--seed <n>', 'seed of the generator (AUTH off uses seed + 1)', '20261207')
  .option('--concurrency <n>', 'requests in flight', '4')
  .option('--postgres', 'on a fresh PostgreSQL database of TEST_DATABASE_URL (default: PGlite in memory)')
  .action(main)
  .parseAsync();
