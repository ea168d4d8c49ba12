/**
 * The agendas benchmark (`node --import tsx bench/agendas.ts [--slots 200000]`): a territory's
 * week of slots on PostgreSQL, loaded in batches of 5,000 (loadTerritory), then (1) the
 * SAS platform's Slot search with its four includes for one professional's RPPS over one day, one
 * client then 20, and (2) bookings under contention: 20 clients `$book`ing the same 10 slots,
 * each taken exactly once, then racing over 1,000 slots (the booking throughput). Latencies are
 * kept one by one (exact p50, p95, p99). Figures go to stdout, for bench/RESULTS.md, with the load
 * average, beside a read of one Slot by id at 20 clients (the machine's ceiling in the same run).
 * `--reuse` keeps the database a run of the same day loaded. Needs BENCH_DATABASE_URL (a PostgreSQL server; default the local one).
 */
import { spawn } from 'node:child_process';
import { loadavg } from 'node:os';
import type { Resource } from '@medplum/fhirtypes';
import pg from 'pg';
import { namedPatients } from '../server/search/compartments.js';
import { extractIndex } from '../server/search/extract.js';
import { syncSearchParametersOnce } from '../server/search/loaded-params.js';
import { openPostgres } from '../server/store/db.js';
import { createVersions } from '../server/store/resources.js';

const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const SLOTS = arg('slots', 200_000);
const CONNECTIONS = arg('connections', 20);
const DURATION = arg('duration', 10);
const DAYS = 7;
const PER_DAY = 30;
const PROFESSIONALS = Math.ceil(SLOTS / (DAYS * PER_DAY));
const ADMIN_URL = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const DB = 'maillage_bench_agendas';
const PORT = 18090;
const BASE = `http://127.0.0.1:${PORT}/fhir`;
const IDNPS = 'urn:oid:1.2.250.1.71.4.2.1';
const rpps = (i: number) => `8${String(10_000_000_000 + i).slice(1)}`;
const DAY0 = Date.UTC(new Date().getUTCFullYear(), new Date().getUTCMonth(), new Date().getUTCDate() + 1);

/** The bench's database, fresh; with `--reuse`, the one a run of the same day left, loaded. */
async function recreate(): Promise<{ url: string; loaded: boolean }> {
  const admin = new pg.Client({ connectionString: ADMIN_URL });
  await admin.connect();
  const exists = (await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [DB])).rowCount;
  const loaded = process.argv.includes('--reuse') && !!exists;
  if (!loaded) {
    await admin.query(`DROP DATABASE IF EXISTS ${DB} WITH (FORCE)`);
    await admin.query(`CREATE DATABASE ${DB}`);
  }
  await admin.end();
  const url = new URL(ADMIN_URL);
  url.pathname = `/${DB}`;
  return { url: url.toString(), loaded };
}

async function serve(databaseUrl: string) {
  const child = spawn(process.execPath, ['--import', 'tsx', 'cli/maillage.ts', 'serve'], {
    env: {
      ...process.env,
      DATABASE_URL: databaseUrl,
      AUTH: 'off',
      SEED: 'none',
      TERMINOLOGY: 'none',
      LOG_LEVEL: 'warn',
      HOST: '127.0.0.1',
      PORT: String(PORT),
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  for (let i = 0; i < 600; i++) {
    if (
      await fetch(`http://127.0.0.1:${PORT}/readyz`).then(
        (r) => r.ok,
        () => false,
      )
    )
      return child;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error('server did not start');
}

async function transaction(resources: Record<string, unknown>[]) {
  const res = await fetch(BASE, {
    method: 'POST',
    headers: { 'content-type': 'application/fhir+json' },
    body: JSON.stringify({
      resourceType: 'Bundle',
      type: 'transaction',
      entry: resources.map((r) => ({ resource: r, request: { method: 'PUT', url: `${r.resourceType}/${r.id}` } })),
    }),
  });
  if (!res.ok) throw new Error(`load: ${res.status} ${(await res.text()).slice(0, 500)}`);
}

/** The territory's directory and week of slots, as NDJSON lines. */
function* territory(): Generator<Record<string, unknown>> {
  yield { resourceType: 'Organization', id: 'cpts', name: 'CPTS' };
  yield { resourceType: 'HealthcareService', id: 'snp', providedBy: { reference: 'Organization/cpts' } };
  for (let p = 0; p < PROFESSIONALS; p++) {
    yield { resourceType: 'Practitioner', id: `pr-${p}`, identifier: [{ system: IDNPS, value: rpps(p) }], name: [{ family: `Docteur ${p}` }] };
    yield {
      resourceType: 'PractitionerRole',
      id: `role-${p}`,
      practitioner: { reference: `Practitioner/pr-${p}` },
      organization: { reference: 'Organization/cpts' },
    };
    yield { resourceType: 'Schedule', id: `agenda-${p}`, actor: [{ reference: `Practitioner/pr-${p}` }, { reference: `PractitionerRole/role-${p}` }] };
    for (let d = 0; d < DAYS; d++) {
      for (let s = 0; s < PER_DAY; s++) {
        const start = DAY0 + d * 86_400_000 + (8 * 60 + s * 20) * 60_000;
        yield {
          resourceType: 'Slot',
          id: `slot-${p}-${d}-${s}`,
          schedule: { reference: `Schedule/agenda-${p}` },
          status: s % 3 ? 'free' : 'busy',
          start: new Date(start).toISOString(),
          end: new Date(start + 20 * 60_000).toISOString(),
          serviceType: [
            { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'AMB' }] },
            {
              extension: [
                { url: 'http://hl7.org/fhir/5.0/StructureDefinition/extension-Slot.serviceType', valueReference: { reference: 'HealthcareService/snp' } },
              ],
            },
          ],
        };
      }
    }
  }
}

/**
 * Loads the territory straight into the database, 5,000 new resources per transaction, each batch
 * in one multi-row statement per table (`createVersions`, what `$import` writes new resources
 * with), indexed by the server's own extraction: the product's write path without its per-request
 * work (HTTP, profiles, audit), which would take most of an hour on a loaded machine.
 */
async function loadTerritory(databaseUrl: string): Promise<void> {
  const started = Date.now();
  const db = openPostgres(databaseUrl, 1);
  let batch: Record<string, unknown>[] = [];
  let slots = 0;
  const write = async () => {
    await db.transaction(async (tx) => {
      // The SearchParameters the server loaded (the SAS's service-type-reference among them).
      await syncSearchParametersOnce(tx);
      const lastUpdated = new Date();
      await createVersions(
        tx,
        batch.map((r) => {
          const resource = { ...r, meta: { versionId: '1', lastUpdated: lastUpdated.toISOString() } } as unknown as Resource;
          const index = extractIndex(resource, BASE);
          const [type, id] = [resource.resourceType, resource.id as string];
          return {
            version: { type, id, version: 1, lastUpdated, method: 'PUT' as const, content: JSON.stringify(resource), patients: namedPatients(type, id, index) },
            index,
          };
        }),
      );
    });
    batch = [];
  };
  try {
    for (const r of territory()) {
      batch.push(r);
      if (r.resourceType === 'Slot') slots++;
      if (batch.length === 5_000) {
        await write();
        if (slots % 50_000 < 5_000) console.error(`loaded ${slots} slots in ${Math.round((Date.now() - started) / 1000)} s`);
      }
    }
    if (batch.length) await write();
  } finally {
    await db.close();
  }
  console.log(`data: ${PROFESSIONALS} professionals, ${slots} slots, loaded in ${Math.round((Date.now() - started) / 1000)} s (load average ${load()})`);
}

interface Measure {
  latencies: number[];
  statuses: Map<number, number>;
  seconds: number;
}

/**
 * `connections` clients, each sending its next request when the previous one is answered, for
 * `seconds` or until `amount` requests are sent: every latency kept, for exact percentiles.
 */
async function measure(connections: number, until: { seconds?: number; amount?: number }, send: () => Promise<Response>): Promise<Measure> {
  const latencies: number[] = [];
  const statuses = new Map<number, number>();
  const started = performance.now();
  const end = until.seconds ? started + until.seconds * 1000 : Number.POSITIVE_INFINITY;
  let sent = 0;
  const client = async () => {
    while (performance.now() < end && sent < (until.amount ?? Number.POSITIVE_INFINITY)) {
      sent++;
      const t0 = performance.now();
      const res = await send();
      await res.arrayBuffer();
      latencies.push(performance.now() - t0);
      statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
    }
  };
  await Promise.all(Array.from({ length: connections }, client));
  latencies.sort((a, b) => a - b);
  return { latencies, statuses, seconds: (performance.now() - started) / 1000 };
}

const pct = (m: Measure, p: number) => Math.round(m.latencies[Math.min(m.latencies.length - 1, Math.floor((p / 100) * m.latencies.length))]);
const load = () =>
  loadavg()
    .map((x) => x.toFixed(1))
    .join(' ');
const line = (name: string, m: Measure) =>
  `${name}: ${m.latencies.length} requests in ${m.seconds.toFixed(1)} s, ${Math.round(m.latencies.length / m.seconds)} req/s, p50 ${pct(m, 50)} ms, p95 ${pct(m, 95)} ms, p99 ${pct(m, 99)} ms, statuses ${JSON.stringify(Object.fromEntries(m.statuses))}; load average ${load()}`;

const sasPath = () => {
  const p = Math.floor(Math.random() * PROFESSIONALS);
  const d = Math.floor(Math.random() * DAYS);
  const from = new Date(DAY0 + d * 86_400_000).toISOString();
  const to = new Date(DAY0 + (d + 1) * 86_400_000).toISOString();
  return (
    `${BASE}/Slot?_include=Slot:schedule&_include:iterate=Schedule:actor&_include=Slot:service-type-reference&_include:iterate=HealthcareService:organization` +
    `&start=ge${from}&start=le${to}&schedule.actor:Practitioner.identifier=${IDNPS}|${rpps(p)}&status=free`
  );
};

const bookBody = (slot: string) =>
  JSON.stringify({
    resourceType: 'Parameters',
    parameter: [
      { name: 'slot', valueReference: { reference: `Slot/${slot}` } },
      { name: 'patient', valueReference: { reference: 'Patient/pat' } },
    ],
  });
const book = (slot: string) =>
  fetch(`${BASE}/Appointment/$book`, { method: 'POST', headers: { 'content-type': 'application/fhir+json' }, body: bookBody(slot) });
const count = async (query: string) => ((await (await fetch(`${BASE}/${query}&_summary=count`)).json()) as { total: number }).total;

async function main() {
  const { url, loaded } = await recreate();
  const server = await serve(url);
  try {
    console.log(`load average before loading: ${load()}`);
    if (!loaded) {
      await loadTerritory(url);
      // Statistics of the fresh tables: without them the planner scans every date row (seconds per search).
      const db = new pg.Client({ connectionString: url });
      await db.connect();
      await db.query('ANALYZE');
      await db.end();
    }
    // The machine's ceiling in the same run: a read of one Slot by id, at CONNECTIONS clients.
    const read = await measure(CONNECTIONS, { seconds: DURATION }, () => fetch(`${BASE}/Slot/slot-${Math.floor(Math.random() * PROFESSIONALS)}-0-1`));
    console.log(line(`ceiling: read of one Slot, ${CONNECTIONS} clients, ${DURATION} s`, read));
    // The search of one client alone, then warm-up, then the measure at CONNECTIONS clients.
    const alone = await measure(1, { amount: 200 }, () => fetch(sasPath()));
    console.log(line('SAS Slot search, 1 client, 200 requests', alone));
    await measure(CONNECTIONS, { seconds: 3 }, () => fetch(sasPath()));
    const sas = await measure(CONNECTIONS, { seconds: DURATION }, () => fetch(sasPath()));
    console.log(line(`SAS Slot search, ${CONNECTIONS} clients, ${DURATION} s`, sas));
    await transaction([{ resourceType: 'Patient', id: 'pat', name: [{ family: 'Martin' }] }]);
    // Professionals not booked before (a reused database keeps the earlier runs' bookings).
    const base = 60 + Math.floor(Math.random() * (PROFESSIONALS - 120));
    // Contention on a few slots: every client books one of 10 free slots; each can be taken once.
    const ten = Array.from({ length: 10 }, (_, i) => `slot-${base}-1-${i * 3 + 1}`);
    const few = await measure(CONNECTIONS, { amount: 2000 }, () => book(ten[Math.floor(Math.random() * ten.length)]));
    console.log(line(`$book, ${CONNECTIONS} clients, 2,000 attempts on 10 slots`, few));
    console.log(`  appointments on them: ${await count(`Appointment?slot=${ten.map((s) => `Slot/${s}`).join(',')}`)} (10 expected: each slot once)`);
    // Throughput: the clients race over the 1,000 free slots of 50 professionals (day 2), ~3 attempts per slot.
    const pool = Array.from({ length: 50 }, (_, p) => Array.from({ length: PER_DAY }, (_, s) => (s % 3 ? `slot-${base + 1 + p}-2-${s}` : '')))
      .flat()
      .filter(Boolean);
    const many = await measure(CONNECTIONS, { amount: pool.length * 3 }, () => book(pool[Math.floor(Math.random() * pool.length)]));
    const won = many.statuses.get(201) ?? 0;
    console.log(line(`$book, ${CONNECTIONS} clients, ${pool.length * 3} attempts on ${pool.length} slots`, many));
    console.log(`  bookings made: ${won} (${Math.round(won / many.seconds)}/s); slots of the pool still free: ${pool.length - won}`);
  } finally {
    server.kill('SIGTERM');
  }
}

await main();
