/*
 * Bulk data figures (bench/RESULTS.md, "Bulk data"): the Synthea sample (../shared/data/synthea,
 * 92,114 resources) made NDJSON, then
 * 1. `maillage import` of it into an empty PostgreSQL database, its counts checked against
 *    those the data's SOURCES.md publishes;
 * 2. the ceiling: the rows that import wrote (resource, version, index and care link rows)
 *    copied with PostgreSQL's COPY into another empty database of the same schema, with nothing
 *    parsed, validated or extracted;
 * 3. `$export` of the whole database by a server (AUTH=off): time until the manifest, then the
 *    download of its files.
 * With `--million`, instead: the sample replicated with new ids (each copy's ids and references
 * suffixed) to a million resources, and `maillage import` of them into an empty database, timed;
 * with `--copies=N`, the sample N times.
 *
 *   node --import tsx bench/bulk.ts [--million | --copies=N]   # BENCH_DATABASE_URL: an admin URL (default postgres@127.0.0.1)
 */
import { execSync, spawn } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import Bunzip from 'seek-bzip';
import { ADMIN_URL, databaseUrl } from './harness/database.js';
import { describeMachine, loadAverage, machineLine } from './harness/machine.js';

const SHARED = process.env.MAILLAGE_SHARED ?? fileURLToPath(new URL('../../shared/', import.meta.url));
const SYNTHEA = `${SHARED.replace(/\/$/, '')}/data/synthea/`;
const WORK = fileURLToPath(new URL('./.work/synthea-ndjson/', import.meta.url));
const MILLION = fileURLToPath(new URL('./.work/synthea-million/', import.meta.url));
const ROOT = fileURLToPath(new URL('../', import.meta.url));

type Res = { resourceType: string; id?: string; identifier?: { system?: string; value?: string }[] } & Record<string, unknown>;

/**
 * The Synthea Bundles as NDJSON, one file per type: urn:uuid references and the conditional
 * ones (`Organization?identifier=…`) made literal, as a transaction would resolve them.
 */
function toNdjson(): number {
  rmSync(WORK, { recursive: true, force: true });
  mkdirSync(WORK, { recursive: true });
  const files = readdirSync(SYNTHEA)
    .filter((f) => f.endsWith('.json.bz2'))
    .sort();
  const bundles = files.map(
    (f) => JSON.parse(Bunzip.decode(readFileSync(`${SYNTHEA}${f}`)).toString('utf8')) as { entry: { fullUrl: string; resource: Res }[] },
  );
  const refs = new Map<string, string>();
  for (const b of bundles) {
    for (const e of b.entry) {
      const r = e.resource;
      r.id ??= e.fullUrl.replace('urn:uuid:', '');
      refs.set(e.fullUrl, `${r.resourceType}/${r.id}`);
      for (const i of r.identifier ?? []) refs.set(`${r.resourceType}?identifier=${i.system}|${i.value}`, `${r.resourceType}/${r.id}`);
    }
  }
  const out = new Map<string, string[]>();
  let n = 0;
  for (const b of bundles) {
    for (const e of b.entry) {
      const text = JSON.stringify(e.resource, (k, v) => (k === 'reference' && typeof v === 'string' && refs.has(v) ? refs.get(v) : v));
      const list = out.get(e.resource.resourceType) ?? [];
      list.push(text);
      out.set(e.resource.resourceType, list);
      n++;
    }
  }
  for (const [type, lines] of out) writeFileSync(`${WORK}${type}.ndjson`, `${lines.join('\n')}\n`);
  return n;
}

async function withAdmin<T>(fn: (c: pg.Client) => Promise<T>, url = ADMIN_URL): Promise<T> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

async function freshDatabase(name: string): Promise<string> {
  await withAdmin(async (c) => {
    await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await c.query(`CREATE DATABASE ${name}`);
  });
  const url = databaseUrl(name);
  execSync('node --import tsx cli/maillage.ts migrate', { cwd: ROOT, env: { ...process.env, DATABASE_URL: url, LOG_LEVEL: 'warn' }, stdio: 'ignore' });
  return url;
}

const TABLES = [
  'resource',
  'resource_version',
  'sp_token',
  'sp_string',
  'sp_date',
  'sp_number',
  'sp_quantity',
  'sp_uri',
  'sp_reference',
  'sp_text',
  'care_link',
];

function publishedCounts(): Map<string, number> {
  const text = readFileSync(`${SYNTHEA}SOURCES.md`, 'utf8');
  return new Map([...text.matchAll(/\| ([A-Z]\w+) \| (\d+) /g)].map((m) => [m[1], Number(m[2])]));
}

interface ImportRun {
  out: string;
  seconds: number;
  /** Processor seconds of the command, all its threads (user + system): the load disturbs them less than the time. */
  cpuSeconds: number;
  load: { before: number; mean: number; max: number };
}

/** `maillage import` of a folder into an empty database, timed, its processor time and the load average meanwhile (sampled every 15 s). */
async function timedImport(url: string, folder: string): Promise<ImportRun> {
  const cpuFile = `${WORK}../import-cpu.txt`;
  const loads = [loadAverage()];
  const sampler = setInterval(() => loads.push(loadAverage()), 15_000);
  const t = Date.now();
  const child = spawn('/usr/bin/time', ['-o', cpuFile, '-f', '%U %S', process.execPath, '--import', 'tsx', 'cli/maillage.ts', 'import', folder], {
    cwd: ROOT,
    env: { ...process.env, DATABASE_URL: url, LOG_LEVEL: 'warn', SEED: 'none', TERMINOLOGY: 'none' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout.on('data', (d) => {
    out += d;
  });
  const code = await new Promise<number | null>((r) => child.on('close', r));
  clearInterval(sampler);
  if (code !== 0) throw new Error(`maillage import exited with ${code}`);
  const seconds = (Date.now() - t) / 1000;
  const [user, system] = readFileSync(cpuFile, 'utf8').trim().split(' ').map(Number);
  return {
    out,
    seconds,
    cpuSeconds: user + system,
    load: { before: loads[0], mean: loads.reduce((a, b) => a + b, 0) / loads.length, max: Math.max(...loads) },
  };
}

const cpuLine = (run: ImportRun, resources: number) =>
  `command's processor time ${run.cpuSeconds.toFixed(0)} s (${((1000 * run.cpuSeconds) / resources).toFixed(2)} ms per resource); load average ${run.load.before.toFixed(1)} before, mean ${run.load.mean.toFixed(1)}, max ${run.load.max.toFixed(1)}`;

/** The NDJSON sample copied `copies` times, each copy's ids (and the references to them) suffixed with its number. */
async function replicate(copies: number): Promise<number> {
  rmSync(MILLION, { recursive: true, force: true });
  mkdirSync(MILLION, { recursive: true });
  let n = 0;
  for (const file of readdirSync(WORK).sort()) {
    const lines = readFileSync(`${WORK}${file}`, 'utf8').split('\n').filter(Boolean);
    const out = createWriteStream(`${MILLION}${file}`);
    for (let k = 1; k <= copies; k++) {
      let text = '';
      for (const line of lines) {
        const r = JSON.parse(line, (key, v) => (key === 'reference' && typeof v === 'string' && /^[A-Z]\w+\/[^/]+$/.test(v) ? `${v}-c${k}` : v));
        r.id = `${r.id}-c${k}`;
        text += `${JSON.stringify(r)}\n`;
        n++;
      }
      if (!out.write(text)) await new Promise<void>((r) => out.once('drain', () => r()));
    }
    await new Promise<void>((r) => out.end(() => r()));
  }
  return n;
}

async function million(copies: number) {
  if (!existsSync(WORK) || !readdirSync(WORK).length) toNdjson();
  const t = Date.now();
  const resources = await replicate(copies);
  console.log(`${resources} resources replicated in ${((Date.now() - t) / 1000).toFixed(1)} s`);
  const url = await freshDatabase('maillage_bench_million');
  const run = await timedImport(url, MILLION);
  console.log(run.out.split('\n').slice(-2).join('\n'));
  console.log(
    `| \`maillage import\` of ${resources} resources (the sample ${copies} times, new ids) | ${run.seconds.toFixed(0)} s | ${Math.round(resources / run.seconds)} resources/s | ${cpuLine(run, resources)} |`,
  );
}

async function main() {
  const machine = describeMachine(await withAdmin(async (c) => (await c.query<{ v: string }>('SELECT version() AS v')).rows[0].v.split(' on ')[0]));
  let t = Date.now();
  const resources = toNdjson();
  console.log(`Synthea as NDJSON: ${resources} resources in ${((Date.now() - t) / 1000).toFixed(1)} s`);

  // 1. The import, by the command an integrator runs.
  const url = await freshDatabase('maillage_bench_bulk');
  // Rows the schema's start writes (none but the migrations'): the import's rows are all the rest.
  const run = await timedImport(url, WORK);
  const importSeconds = run.seconds;
  const load = run.load.before;
  console.log(run.out.split('\n').slice(-2).join('\n'));
  console.log(cpuLine(run, resources));
  const counts = await withAdmin(
    async (c) =>
      new Map((await c.query<{ type: string; n: number }>(`SELECT type, count(*)::int AS n FROM resource GROUP BY type`)).rows.map((r) => [r.type, r.n])),
    url,
  );
  const published = publishedCounts();
  const wrong = [...published].filter(([type, n]) => counts.get(type) !== n);
  console.log(wrong.length ? `COUNTS DIFFER from SOURCES.md: ${JSON.stringify(wrong)}` : 'Counts per type: as SOURCES.md publishes');
  const imported = [...published.keys()].reduce((a, type) => a + (counts.get(type) ?? 0), 0);
  const rows = await withAdmin(async (c) => {
    const n: Record<string, number> = {};
    for (const table of TABLES) n[table] = (await c.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table}`)).rows[0].n;
    return n;
  }, url);

  // 2. The ceiling: the same rows by COPY, into an empty database of the same schema (its indexes maintained as the import's were).
  const ceilingUrl = await freshDatabase('maillage_bench_bulk_ceiling');
  t = Date.now();
  for (const table of TABLES) {
    execSync(`psql -q "${url}" -c "\\copy ${table} TO STDOUT" | psql -q "${ceilingUrl}" -c "\\copy ${table} FROM STDIN"`, {
      stdio: 'inherit',
      shell: '/bin/bash',
    });
  }
  const ceilingSeconds = (Date.now() - t) / 1000;

  // 3. The export of everything, by a server on the imported database.
  const port = 18000 + Math.floor(Math.random() * 1000);
  const server = spawn(process.execPath, ['--import', 'tsx', 'cli/maillage.ts', 'serve'], {
    cwd: ROOT,
    env: { ...process.env, DATABASE_URL: url, AUTH: 'off', SEED: 'none', TERMINOLOGY: 'none', LOG_LEVEL: 'warn', PORT: String(port), BULK_POLL_MS: '200' },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const base = `http://127.0.0.1:${port}/fhir`;
  for (
    let i = 0;
    i < 600 &&
    !(await fetch(`http://127.0.0.1:${port}/readyz`).then(
      (r) => r.ok,
      () => false,
    ));
    i++
  )
    await new Promise((r) => setTimeout(r, 100));
  t = Date.now();
  const kick = await fetch(`${base}/$export`, { headers: { prefer: 'respond-async' } });
  const status = kick.headers.get('content-location') as string;
  let manifest: { output: { url: string; count: number }[] } | undefined;
  while (!manifest) {
    const res = await fetch(status);
    if (res.status === 200) manifest = await res.json();
    else if (res.status !== 202) throw new Error(`export: ${res.status} ${await res.text()}`);
    else await new Promise((r) => setTimeout(r, 200));
  }
  const exportSeconds = (Date.now() - t) / 1000;
  const exported = manifest.output.reduce((a, o) => a + o.count, 0);
  t = Date.now();
  let bytes = 0;
  for (const o of manifest.output) bytes += (await (await fetch(o.url)).arrayBuffer()).byteLength;
  const downloadSeconds = (Date.now() - t) / 1000;
  server.kill();

  const rowTotal = Object.values(rows).reduce((a, b) => a + b, 0);
  const lines = [
    `Machine: ${machineLine(machine)}; load average before the import ${load.toFixed(2)}; ${new Date().toISOString().slice(0, 16).replace('T', ' ')}`,
    '',
    '| measure | resources | rows written | seconds | resources/s | vs ceiling |',
    '| --- | ---: | ---: | ---: | ---: | ---: |',
    `| \`maillage import\` of the Synthea NDJSON (parse, validate, profiles, index in worker threads; COPY in batches of 2,000; care links, change feed, audit) | ${imported} | ${rowTotal} | ${importSeconds.toFixed(1)} | ${Math.round(imported / importSeconds)} | ${Math.round((100 * ceilingSeconds) / importSeconds)} % |`,
    `| ceiling: COPY of the same rows (${TABLES.join(', ')}) into an empty database of the same schema | ${imported} | ${rowTotal} | ${ceilingSeconds.toFixed(1)} | ${Math.round(imported / ceilingSeconds)} | 100 % |`,
    `| \`$export\` of the whole database, kick-off to manifest | ${exported} |  | ${exportSeconds.toFixed(1)} | ${Math.round(exported / exportSeconds)} |  |`,
    `| download of its ${manifest.output.length} files (${(bytes / 2 ** 20).toFixed(0)} MiB) | ${exported} |  | ${downloadSeconds.toFixed(1)} | ${Math.round(exported / downloadSeconds)} |  |`,
  ];
  console.log(lines.join('\n'));
  console.log(`(command time includes the process start and line count; per-table rows: ${JSON.stringify(rows)})`);
}

/** `--million`: the sample 11 times; `--copies=N`: N times (2: some 184k resources). */
const copies = process.argv.includes('--million') ? 11 : Number(process.argv.find((a) => a.startsWith('--copies='))?.split('=')[1] ?? 0);
(copies ? million(copies) : main()).catch((err) => {
  console.error(err);
  process.exit(1);
});
