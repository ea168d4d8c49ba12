import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import type { Figures, Load } from './measure.js';

/** One measured figure: a scenario on one server, kept until the same one is measured again. */
export interface Row {
  scenario: string;
  title: string;
  /** Resources written per request (transactions), see Scenario.entries. */
  entries?: number;
  /** `secured`: Maillage with authorization on (the équipe-de-soins rules and audit), see Scenario.secured. */
  target: 'maillage' | 'ceiling' | 'secured';
  /** Maillage's LOG_LEVEL in the run (the ceiling does not log: its rows are those measured beside Maillage at that level). */
  logLevel: string;
  size: number;
  date: string;
  /** 1-minute load average when the measure started. */
  loadAverage: number;
  load: Load;
  /** Those of the median round (by throughput). */
  figures: Figures;
  /** Throughput of every round, in the order measured. */
  roundThroughputs: number[];
  /** pg_database_size after the measure. */
  dbSize: number;
  machine: string;
}

export interface DataSet {
  name: string;
  size: number;
  patients: number;
  seed: number;
  date: string;
  seconds: number;
  rate: number;
  dbSize: number;
  loadAverage: number;
  machine: string;
}

/** Maillage's memory over a whole run of several scenarios: the "flat across the run" check. */
export interface ServerRun {
  size: number;
  logLevel: string;
  date: string;
  scenarios: string[];
  /** RSS once started and ready, and after the last scenario. */
  rssReady: number;
  rssEnd: number;
}

interface Store {
  rows: Row[];
  dataSets: DataSet[];
  serverRuns: ServerRun[];
}

const key = (r: Row) => [r.scenario, r.target, r.logLevel, r.size].join('|');

// The figures behind RESULTS.md, kept as JSON so re-measuring one scenario keeps the others.
const JSON_FILE = new URL('../results.json', import.meta.url);
const MARKDOWN_FILE = new URL('../RESULTS.md', import.meta.url);

function readStore(): Store {
  return existsSync(JSON_FILE) ? (JSON.parse(readFileSync(JSON_FILE, 'utf8')) as Store) : { rows: [], dataSets: [], serverRuns: [] };
}

function writeStore(store: Store): void {
  writeFileSync(JSON_FILE, `${JSON.stringify(store, null, 2)}\n`);
}

export function recordRow(row: Row): void {
  const store = readStore();
  writeStore({ ...store, rows: [...store.rows.filter((r) => key(r) !== key(row)), row] });
}

export function recordDataSet(d: DataSet): void {
  const store = readStore();
  writeStore({ ...store, dataSets: [...store.dataSets.filter((x) => x.name !== d.name), d] });
}

export function recordServerRun(run: ServerRun): void {
  const store = readStore();
  const same = (r: ServerRun) => r.size === run.size && r.logLevel === run.logLevel;
  writeStore({ ...store, serverRuns: [...store.serverRuns.filter((r) => !same(r)), run] });
}

/** Rewrites the generated part of RESULTS.md (between the marks), leaving the rest as written. */
export function writeResultsMarkdown(scenarioOrder: string[]): void {
  const generated = `${BEGIN}\n${render(readStore(), scenarioOrder)}\n${END}`;
  const current = existsSync(MARKDOWN_FILE) ? readFileSync(MARKDOWN_FILE, 'utf8') : `# Benchmarks\n\n${BEGIN}\n${END}\n`;
  const start = current.indexOf(BEGIN);
  const end = current.indexOf(END);
  if (start < 0 || end < start) throw new Error(`RESULTS.md has lost its marks ${BEGIN} … ${END}`);
  writeFileSync(MARKDOWN_FILE, current.slice(0, start) + generated + current.slice(end + END.length));
}

const BEGIN = '<!-- figures: written by `npm run bench` from bench/results.json; edit outside these marks -->';
const END = '<!-- end of figures -->';

const mib = (bytes: number) => `${Math.round(bytes / 2 ** 20)} MiB`;
const ms = (v: number) => (v < 10 ? v.toFixed(1) : v.toFixed(0));
const resourceRate = (r: Row) => (r.figures.throughput * (r.entries ?? 1)).toFixed(0);
const rate = (r: Row) => (r.entries ? `${r.figures.throughput.toFixed(1)} (${resourceRate(r)})` : r.figures.throughput.toFixed(0));
const day = (iso: string) => iso.slice(0, 16).replace('T', ' ');

function render(store: Store, order: string[]): string {
  const out: string[] = [];
  const machines = [...new Set([...store.dataSets.map((d) => d.machine), ...store.rows.map((r) => r.machine)])];
  out.push(`Machine${machines.length > 1 ? 's' : ''}: ${machines.join(' | ')}`, '');

  out.push(
    '### Data sets',
    '',
    '| data set | resources | loaded in | rate | database size | load avg | date |',
    '| --- | ---: | ---: | ---: | ---: | ---: | --- |',
  );
  for (const d of store.dataSets) {
    out.push(
      `| ${d.name} | ${d.size} | ${d.seconds.toFixed(0)} s | ${d.rate.toFixed(0)} res/s (maillage seed, transactions) | ${mib(d.dbSize)} | ${d.loadAverage} | ${day(d.date)} |`,
    );
  }

  const rank = (r: Row) => (order.indexOf(r.scenario) + 1 || order.length + 1) * 4 + (r.logLevel === 'info' ? 0 : 2) + (r.target === 'ceiling' ? 1 : 0);
  for (const size of [...new Set(store.rows.map((r) => r.size))].sort((a, b) => a - b)) {
    const rows = store.rows.filter((r) => r.size === size).sort((a, b) => rank(a) - rank(b));
    out.push('', `### Scenarios on ${size} resources`, '');
    for (const title of new Set(rows.map((r) => `- \`${r.scenario}\`: ${r.title}`))) out.push(title);
    out.push(
      '',
      '| scenario | server | req/s (each round) | p50 ms | p95 ms | p99 ms | non-2xx | CPU ms/req: server + db + autocannon | server RSS start / peak / end | database | conns × s | load avg | date |',
      '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | --- | ---: | --- | ---: | --- |',
    );
    for (const r of rows) {
      const f = r.figures;
      const server =
        r.target === 'ceiling'
          ? `ceiling (beside log ${r.logLevel})`
          : `Maillage${r.target === 'secured' ? ', AUTH on (access rules, audit)' : ''} (log ${r.logLevel})`;
      const others = r.roundThroughputs.length > 1 ? ` (${r.roundThroughputs.map((t) => t.toFixed(0)).join(', ')})` : '';
      const resources = r.entries ? ` = ${resourceRate(r)} res/s` : '';
      out.push(
        `| ${r.scenario} | ${server} | ${f.throughput.toFixed(r.entries ? 1 : 0)}${others}${resources} | ${ms(f.p50)} | ${ms(f.p95)} | ${ms(f.p99)} | ${f.non2xx + f.errors} | ${f.cpu.server.toFixed(2)} + ${f.cpu.database.toFixed(2)} + ${f.cpu.loadGenerator.toFixed(2)} | ${mib(f.rss.start)} / ${mib(f.rss.peak)} / ${mib(f.rss.end)} | ${mib(r.dbSize)} | ${r.load.connections} × ${r.load.duration} | ${r.loadAverage} | ${day(r.date)} |`,
      );
    }
    const ratios = rows.flatMap((r) => {
      const ceiling = rows.find((c) => c.target === 'ceiling' && c.scenario === r.scenario && c.logLevel === r.logLevel);
      return r.target === 'maillage' && ceiling ? [{ r, ceiling }] : [];
    });
    for (const run of store.serverRuns.filter((r) => r.size === size)) {
      out.push(
        '',
        `Maillage's RSS over its last whole run with log ${run.logLevel} (${run.scenarios.join(', ')}; ${day(run.date)}): ` +
          `${mib(run.rssReady)} once ready, ${mib(run.rssEnd)} after the last scenario.`,
      );
    }
    if (ratios.length) {
      out.push(
        '',
        '| scenario | Maillage logging | Maillage req/s (res/s) | ceiling req/s (res/s) | throughput ratio | server CPU/req, ceiling ÷ Maillage | all CPU/req, ceiling ÷ Maillage |',
        '| --- | --- | ---: | ---: | ---: | ---: | ---: |',
      );
      const pct = (v: number) => `${(v * 100).toFixed(0)} %`;
      for (const { r, ceiling } of ratios) {
        const m = r.figures;
        const c = ceiling.figures;
        const all = (f: Figures) => f.cpu.server + f.cpu.database + f.cpu.loadGenerator;
        out.push(
          `| ${r.scenario} | ${r.logLevel} | ${rate(r)} | ${rate(ceiling)} | ${pct(m.throughput / c.throughput)} | ${pct(c.cpu.server / m.cpu.server)} | ${pct(all(c) / all(m))} |`,
        );
      }
    }
  }
  return out.join('\n');
}
