/**
 * The agendas benchmark (`node --import tsx bench/agendas.ts [--slots 200000]`): a territory's
 * week of slots on PostgreSQL, then (1) the SAS platform's Slot search with its four includes for
 * one professional's RPPS over one day, at 20 clients, and (2) bookings under contention: 20
 * clients `$book`ing the same few slots, each taken exactly once. Figures go to stdout, for
 * bench/RESULTS.md. Needs BENCH_DATABASE_URL (a PostgreSQL server; default the local one).
 */
import { spawn } from 'node:child_process';
import { loadavg } from 'node:os';
import autocannon from 'autocannon';
import pg from 'pg';

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

async function recreate(): Promise<string> {
  const admin = new pg.Client({ connectionString: ADMIN_URL });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS ${DB} WITH (FORCE)`);
  await admin.query(`CREATE DATABASE ${DB}`);
  await admin.end();
  const url = new URL(ADMIN_URL);
  url.pathname = `/${DB}`;
  return url.toString();
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

async function load(): Promise<void> {
  const started = Date.now();
  await transaction([
    { resourceType: 'Organization', id: 'cpts', name: 'CPTS' },
    { resourceType: 'HealthcareService', id: 'snp', providedBy: { reference: 'Organization/cpts' } },
  ]);
  for (let p = 0; p < PROFESSIONALS; p++) {
    const batch: Record<string, unknown>[] = [
      { resourceType: 'Practitioner', id: `pr-${p}`, identifier: [{ system: IDNPS, value: rpps(p) }], name: [{ family: `Docteur ${p}` }] },
      {
        resourceType: 'PractitionerRole',
        id: `role-${p}`,
        practitioner: { reference: `Practitioner/pr-${p}` },
        organization: { reference: 'Organization/cpts' },
      },
      { resourceType: 'Schedule', id: `agenda-${p}`, actor: [{ reference: `Practitioner/pr-${p}` }, { reference: `PractitionerRole/role-${p}` }] },
    ];
    for (let d = 0; d < DAYS; d++) {
      for (let s = 0; s < PER_DAY; s++) {
        const start = DAY0 + d * 86_400_000 + (8 * 60 + s * 20) * 60_000;
        batch.push({
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
        });
      }
    }
    await transaction(batch);
    if (p % 100 === 99) console.error(`loaded ${(p + 1) * DAYS * PER_DAY} slots in ${Math.round((Date.now() - started) / 1000)} s`);
  }
  console.log(`data: ${PROFESSIONALS} professionals, ${PROFESSIONALS * DAYS * PER_DAY} slots, loaded in ${Math.round((Date.now() - started) / 1000)} s`);
}

function run(opts: autocannon.Options): Promise<autocannon.Result> {
  return new Promise((resolve, reject) => autocannon(opts, (err, result) => (err ? reject(err) : resolve(result))));
}

const sasPath = () => {
  const p = Math.floor(Math.random() * PROFESSIONALS);
  const d = Math.floor(Math.random() * DAYS);
  const from = new Date(DAY0 + d * 86_400_000).toISOString();
  const to = new Date(DAY0 + (d + 1) * 86_400_000).toISOString();
  return (
    `/fhir/Slot?_include=Slot:schedule&_include:iterate=Schedule:actor&_include=Slot:service-type-reference&_include:iterate=HealthcareService:organization` +
    `&start=ge${from}&start=le${to}&schedule.actor:Practitioner.identifier=${IDNPS}|${rpps(p)}&status=free`
  );
};

const line = (name: string, r: autocannon.Result) =>
  `${name}: ${r.requests.total} requests, ${Math.round(r.requests.average)} req/s, p50 ${r.latency.p50} ms, p97.5 ${r.latency.p97_5} ms, p99 ${r.latency.p99} ms, non-2xx ${r.non2xx}, errors ${r.errors}`;

async function main() {
  const url = await recreate();
  const server = await serve(url);
  try {
    await load();
    // Statistics of the fresh tables: without them the planner scans every date row (seconds per search).
    const db = new pg.Client({ connectionString: url });
    await db.connect();
    await db.query('ANALYZE');
    await db.end();
    // Warm-up, then the measure; p95 from the histogram autocannon keeps.
    await run({ url: `http://127.0.0.1:${PORT}`, connections: CONNECTIONS, duration: 3, requests: [{ setupRequest: (r) => ({ ...r, path: sasPath() }) }] });
    const sas = await run({
      url: `http://127.0.0.1:${PORT}`,
      connections: CONNECTIONS,
      duration: DURATION,
      requests: [{ setupRequest: (r) => ({ ...r, path: sasPath() }) }],
    });
    console.log(line(`SAS Slot search, ${CONNECTIONS} clients`, sas));
    console.log(
      `  p90 ${sas.latency.p90} ms (autocannon gives p90 and p97.5, not p95); load average ${loadavg()
        .map((x) => x.toFixed(1))
        .join(' ')}`,
    );
    // Contention: every client books one of 10 free slots of professional 0; each can be taken once.
    await transaction([{ resourceType: 'Patient', id: 'pat', name: [{ family: 'Martin' }] }]);
    const targets = Array.from({ length: 10 }, (_, i) => `slot-0-1-${i * 3 + 1}`);
    const body = () =>
      JSON.stringify({
        resourceType: 'Parameters',
        parameter: [
          { name: 'slot', valueReference: { reference: `Slot/${targets[Math.floor(Math.random() * targets.length)]}` } },
          { name: 'patient', valueReference: { reference: 'Patient/pat' } },
        ],
      });
    const book = await run({
      url: `http://127.0.0.1:${PORT}`,
      connections: CONNECTIONS,
      amount: 2000,
      requests: [
        {
          method: 'POST',
          path: '/fhir/Appointment/$book',
          headers: { 'content-type': 'application/fhir+json' },
          setupRequest: (r) => ({ ...r, body: body() }),
        },
      ],
    });
    console.log(line(`$book on 10 slots, ${CONNECTIONS} clients, 2000 attempts`, book));
    const booked = (await (await fetch(`${BASE}/Appointment?_summary=count`)).json()) as { total: number };
    console.log(`  appointments created: ${booked.total} (10 expected: each slot once)`);
  } finally {
    server.kill('SIGTERM');
  }
}

await main();
