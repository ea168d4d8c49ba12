/**
 * The benchmark harness (npm run bench): builds or reuses a data set on PostgreSQL, starts Maillage
 * and the ceiling on a copy of it, measures each scenario of bench/scenarios with autocannon, and
 * writes bench/results.json and the figures of bench/RESULTS.md. `npm run bench -- --help`.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import pg from 'pg';
import {
  databaseSize,
  databaseUrl,
  dataSetName,
  dataSetState,
  dropDatabase,
  postgresVersion,
  recreateDatabase,
  resourceCount,
  RUN_DATABASE,
  sealDataSet,
} from './harness/database.js';
import { describeMachine, loadAverage, machineLine } from './harness/machine.js';
import { measure, type Figures, type Load } from './harness/measure.js';
import { rss, startProcess, type BenchProcess } from './harness/processes.js';
import { recordDataSet, recordRow, recordServerRun, writeResultsMarkdown } from './harness/results.js';
import type { Scenario } from './harness/scenario.js';

const path = (p: string) => fileURLToPath(new URL(p, import.meta.url));
const WORK = path('./.work/');
const MAILLAGE_PORT = 18080;
const CEILING_PORT = 18081;
const SECURED_PORT = 18082;
const BENCH_CLIENT = { id: 'bench', secret: 'bench-client-secret-on-the-loopback' };
/** What the bench server's signing keys are encrypted under (a server on PostgreSQL with AUTH on needs one). */
const BENCH_KEY_ENCRYPTION_KEY = Buffer.alloc(32, 1).toString('base64');

interface Options {
  patients: string;
  seed: string;
  connections: string;
  duration: string;
  warmup: string;
  logLevel: string;
  cpuProf?: string;
  rounds: string;
  reload?: boolean;
  ceiling: boolean;
  record: boolean;
}

/** Every scenario of the files of bench/scenarios (one or a list per file), in the order of the file names. */
async function allScenarios(): Promise<Scenario[]> {
  const files = readdirSync(path('./scenarios/'))
    .filter((f) => f.endsWith('.ts'))
    .sort();
  const modules = await Promise.all(files.map(async (f) => ((await import(`./scenarios/${f}`)) as { default: Scenario | Scenario[] }).default));
  return modules.flat();
}

function startMaillage(url: string, opts: Pick<Options, 'logLevel' | 'cpuProf'>, secured?: Record<string, string>): Promise<BenchProcess> {
  const port = secured ? SECURED_PORT : MAILLAGE_PORT;
  const auth = secured
    ? {
        AUTH: 'on',
        KEY_ENCRYPTION_KEY: BENCH_KEY_ENCRYPTION_KEY,
        BOOTSTRAP_CLIENT_ID: BENCH_CLIENT.id,
        BOOTSTRAP_CLIENT_SECRET: BENCH_CLIENT.secret,
        ...secured,
      }
    : { AUTH: 'off' };
  return startProcess({
    name: secured ? 'Maillage, AUTH on' : 'Maillage',
    // As `npm start` and the image run it.
    args: [...(opts.cpuProf ? ['--cpu-prof', `--cpu-prof-dir=${opts.cpuProf}`] : []), '--max-semi-space-size=32', path('../dist/cli/maillage.js'), 'serve'],
    port,
    // The generated patients carry INS on the test OID (seed/identifiers.ts), which the transactions resend.
    env: {
      DATABASE_URL: url,
      SEED: 'none',
      INS_TEST_IDENTITIES: 'on',
      LOG_LEVEL: opts.logLevel,
      HOST: '127.0.0.1',
      BASE_URL: `http://127.0.0.1:${port}`,
      ...auth,
    },
    ready: '/readyz',
    logFile: `${WORK}maillage${secured ? '-secured' : ''}.log`,
  });
}

/** The bench client's token from a Maillage with AUTH on. */
async function benchToken(origin: string): Promise<string> {
  const res = await fetch(`${origin}/auth/token`, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      authorization: `Basic ${Buffer.from(`${BENCH_CLIENT.id}:${BENCH_CLIENT.secret}`).toString('base64')}`,
    },
    body: new URLSearchParams({ grant_type: 'client_credentials' }),
  });
  if (!res.ok) throw new Error(`bench token: ${res.status} ${await res.text()}`);
  return ((await res.json()) as { access_token: string }).access_token;
}

function startCeiling(url: string): Promise<BenchProcess> {
  return startProcess({
    name: 'ceiling',
    args: ['--import', 'tsx', path('./ceiling.ts')],
    port: CEILING_PORT,
    env: { DATABASE_URL: url },
    ready: '/healthz',
    logFile: `${WORK}ceiling.log`,
  });
}

/**
 * Loads a generated territory (seed/territory.ts) into a new template database with
 * `maillage seed --patients N`: the server's own write path, in transactions.
 */
async function buildDataSet(name: string, patients: number, seed: number, machine: string): Promise<void> {
  console.log(`Building data set ${name}: ${patients} patients with their pathways, seed ${seed}`);
  await recreateDatabase(name);
  const loadAvg = loadAverage();
  const started = performance.now();
  const child = spawn(process.execPath, [path('../dist/cli/maillage.js'), 'seed', '--patients', String(patients), '--seed', String(seed)], {
    env: { ...process.env, DATABASE_URL: databaseUrl(name), LOG_LEVEL: 'warn' },
    stdio: 'inherit',
  });
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  if (code !== 0) throw new Error(`maillage seed exited with ${code}`);
  const seconds = (performance.now() - started) / 1000;
  const size = await resourceCount(name);
  await sealDataSet(name);
  const dbSize = await databaseSize(name);
  console.log(`Loaded ${size} resources in ${seconds.toFixed(0)} s (${(size / seconds).toFixed(0)} resources/s), ${Math.round(dbSize / 2 ** 20)} MiB`);
  recordDataSet({ name, size, patients, seed, date: new Date().toISOString(), seconds, rate: size / seconds, dbSize, loadAverage: loadAvg, machine });
}

/** Brings a kept data set to the current schema with `maillage migrate`, as a deployment would. */
async function migrateDataSet(name: string): Promise<void> {
  console.log(`Migrating data set ${name} to the current schema`);
  const child = spawn(process.execPath, [path('../dist/cli/maillage.js'), 'migrate'], {
    env: { ...process.env, DATABASE_URL: databaseUrl(name), LOG_LEVEL: 'warn' },
    stdio: 'inherit',
  });
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  if (code !== 0) throw new Error(`maillage migrate exited with ${code}`);
  await sealDataSet(name);
}

function summary(f: Figures): string {
  const mib = (b: number) => Math.round(b / 2 ** 20);
  return (
    `${f.throughput.toFixed(0)} req/s, p50/p95/p99 ${[f.p50, f.p95, f.p99].map((v) => v.toFixed(1)).join('/')} ms, ` +
    `non-2xx ${f.non2xx}, errors ${f.errors}, CPU ms/req ${[f.cpu.server, f.cpu.database, f.cpu.loadGenerator].map((v) => v.toFixed(2)).join('/')} (server/db/autocannon), RSS ${mib(f.rss.start)}/${mib(f.rss.peak)}/${mib(f.rss.end)} MiB`
  );
}

async function main(names: string[], opts: Options): Promise<void> {
  const patients = Number(opts.patients);
  const seed = Number(opts.seed);
  const load: Load = { connections: Number(opts.connections), duration: Number(opts.duration), warmup: Number(opts.warmup) };
  const available = await allScenarios();
  const unknown = names.filter((n) => !available.some((s) => s.name === n));
  if (unknown.length) throw new Error(`Unknown scenario ${unknown.join(', ')}; there are: ${available.map((s) => s.name).join(', ')}`);
  const scenarios = names.length ? names.map((n) => available.find((s) => s.name === n) as Scenario) : available;

  mkdirSync(WORK, { recursive: true });
  const machine = machineLine(describeMachine(await postgresVersion()));
  console.log(machine);
  const dataSet = dataSetName(patients, seed);
  const state = opts.reload ? 'load' : await dataSetState(dataSet);
  if (state === 'load') await buildDataSet(dataSet, patients, seed, machine);
  else if (state === 'migrate') await migrateDataSet(dataSet);
  else console.log(`Reusing data set ${dataSet}`);
  const size = await resourceCount(dataSet);

  // Each run works on a copy, so writes never change the kept data set.
  await recreateDatabase(RUN_DATABASE, dataSet);
  const runUrl = databaseUrl(RUN_DATABASE);
  const pool = new pg.Pool({ connectionString: runUrl, max: 2, application_name: 'bench' });
  // An idle connection ended from outside (the run database is dropped WITH (FORCE)) must not crash the run.
  pool.on('error', () => undefined);
  const maillage = await startMaillage(runUrl, opts);
  const ceiling = opts.ceiling && scenarios.some((s) => s.ceiling) ? await startCeiling(runUrl) : undefined;
  const rssReady = rss(maillage.pid);
  try {
    for (const scenario of scenarios) {
      const requests = await scenario.prepare({ db: pool, size, seed });
      // The server's PostgreSQL backends: every connection to the run database but the harness's own.
      const backends = async () =>
        (await pool.query<{ pid: number }>(`SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND application_name <> 'bench'`)).rows.map(
          (r) => r.pid,
        );
      const secured = scenario.secured ? await startMaillage(runUrl, opts, await scenario.secured({ db: pool, size, seed })) : undefined;
      const token = secured ? await benchToken(secured.url) : undefined;
      const requestsOf = (target: BenchProcess) =>
        target === secured ? requests.map((r) => ({ ...r, headers: { ...r.headers, authorization: `Bearer ${token}` } })) : requests;
      const targets = [maillage, ...(scenario.ceiling && ceiling ? [ceiling] : []), ...(secured ? [secured] : [])];
      // On a shared machine the load drifts: alternating the servers round by round, and keeping
      // each one's median round, compares them under like conditions.
      const rounds = new Map(targets.map((t) => [t, [] as { figures: Figures; loadAvg: number; dbSize: number }[]]));
      const scenarioLoad = { ...load, connections: scenario.connections ?? load.connections };
      for (let round = 1; round <= Number(opts.rounds); round++) {
        for (const target of targets) {
          const loadAvg = loadAverage();
          console.log(`${scenario.name} on ${target.name}, round ${round}: ${load.warmup} s warm-up, ${load.duration} s measured (load average ${loadAvg})`);
          const figures = await measure(target.url, target.pid, backends, requestsOf(target), scenarioLoad);
          rounds.get(target)?.push({ figures, loadAvg, dbSize: await databaseSize(RUN_DATABASE) });
          console.log(`  ${summary(figures)}`);
        }
      }
      for (const [target, measured] of rounds) {
        const sorted = [...measured].sort((a, b) => a.figures.throughput - b.figures.throughput);
        const median = sorted[Math.floor(sorted.length / 2)];
        if (!opts.record) continue;
        recordRow({
          scenario: scenario.name,
          title: scenario.title,
          entries: scenario.entries,
          target: target === ceiling ? 'ceiling' : target === secured ? 'secured' : 'maillage',
          logLevel: opts.logLevel,
          size,
          date: new Date().toISOString(),
          loadAverage: median.loadAvg,
          load: scenarioLoad,
          figures: median.figures,
          roundThroughputs: measured.map((m) => m.figures.throughput),
          dbSize: median.dbSize,
          machine,
        });
      }
      await secured?.stop();
    }
    const date = new Date().toISOString();
    if (opts.record) recordServerRun({ size, logLevel: opts.logLevel, date, scenarios: scenarios.map((s) => s.name), rssReady, rssEnd: rss(maillage.pid) });
  } finally {
    await Promise.all([maillage.stop(), ceiling?.stop()]);
    await pool.end();
    await dropDatabase(RUN_DATABASE);
  }
  if (opts.record) writeResultsMarkdown(available.map((s) => s.name));
}

await new Command('bench')
  .description('Measure Maillage on PostgreSQL (and the ceiling beside it); writes bench/RESULTS.md')
  .argument('[scenarios...]', 'scenario names to run (default: every file in bench/scenarios)')
  .option('--patients <n>', 'patients of the generated territory (about 10 resources each: 10,000 make 100,000)', '10000')
  .option('--seed <n>', 'seed of the generated data set', '42')
  .option('--connections <n>', 'concurrent connections of autocannon', '20')
  .option('--duration <s>', 'seconds measured, per scenario and server', '20')
  .option('--warmup <s>', 'seconds of the same load before measuring', '5')
  .option('--rounds <n>', 'rounds per scenario, alternating Maillage and the ceiling; the median round is kept', '1')
  .option('--log-level <level>', "Maillage's LOG_LEVEL during the measures", 'info')
  .option('--cpu-prof <dir>', 'write a V8 CPU profile of each Maillage process into this folder (read it in Chrome DevTools)')
  .option('--reload', 'rebuild the data set even when a matching one is kept')
  .option('--no-ceiling', 'measure Maillage only')
  .option('--no-record', 'print the figures only: bench/results.json and RESULTS.md stay as they are')
  .action(main)
  .parseAsync();
