/**
 * End-to-end latency of topic-based notifications: from a write's response (its commit) to the
 * notification's arrival at a rest-hook receiver. `maillage serve` on a fresh PostgreSQL database,
 * SUBSCRIPTIONS active topic-based subscriptions to discharges (each filtered to one patient, so
 * that each discharge is one notification), discharges written at RATE per second for SECONDS
 * over those patients. Prints p50/p95/p99, what arrived, and the load average. SERVER_DIR runs the
 * server of another checkout (e.g. a worktree of main) for a peer measured in the same session.
 *
 *   node --import tsx bench/topic-latency.ts
 *   SERVER_DIR=/work/main node --import tsx bench/topic-latency.ts
 */
import { createServer as createHttpServer } from 'node:http';
import { loadavg } from 'node:os';
import { serveOnFreshDatabase } from './harness/fresh-server.js';

const SUBSCRIPTIONS = Number(process.env.SUBSCRIPTIONS ?? 1000);
const RATE = Number(process.env.RATE ?? 200);
const SECONDS = Number(process.env.SECONDS ?? 30);
const SERVER_DIR = process.env.SERVER_DIR ?? process.cwd();
const BP = 'http://hl7.org/fhir/uv/subscriptions-backport/StructureDefinition/';

const put = async (base: string, path: string, body: unknown) => {
  const res = await fetch(`${base}/${path}`, {
    method: path.includes('/') ? 'PUT' : 'POST',
    headers: { 'content-type': 'application/fhir+json' },
    body: JSON.stringify(body),
  });
  if (res.status >= 300) throw new Error(`${path}: ${res.status} ${await res.text()}`);
  await res.body?.cancel();
};

async function main() {
  const committed = new Map<string, number>();
  const arrivals = new Map<string, number>();
  const receiver = createHttpServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      const arrived = performance.now();
      res.writeHead(200).end();
      const bundle = JSON.parse(body);
      const id = bundle.entry[1]?.fullUrl?.split('/').pop();
      if (id && !arrivals.has(id)) arrivals.set(id, arrived);
    });
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  const hook = `http://127.0.0.1:${(receiver.address() as { port: number }).port}/hook`;
  const server = await serveOnFreshDatabase('maillage_bench_topics', { dir: SERVER_DIR, env: { FHIR_IGS: '' } });
  try {
    for (let i = 0; i < SUBSCRIPTIONS; i += 50) {
      await Promise.all(
        Array.from({ length: Math.min(50, SUBSCRIPTIONS - i) }, (_, k) =>
          put(server.base, 'Subscription', {
            resourceType: 'Subscription',
            status: 'requested',
            reason: 'bench',
            criteria: 'https://fhir.maillage.fr/SubscriptionTopic/discharge',
            _criteria: { extension: [{ url: `${BP}backport-filter-criteria`, valueString: `patient=Patient/p${i + k}` }] },
            channel: { type: 'rest-hook', endpoint: hook, payload: 'application/fhir+json' },
          }),
        ),
      );
    }
    // Every handshake answered: all active (a subscription still `requested` hears nothing).
    for (;;) {
      const res = await fetch(`${server.base}/Subscription?status=active&_summary=count`);
      if (((await res.json()) as { total: number }).total >= SUBSCRIPTIONS) break;
      await new Promise((r) => setTimeout(r, 500));
    }
    const total = RATE * SECONDS;
    const started = performance.now();
    const writes: Promise<void>[] = [];
    // Open loop, as clients do: a write the server refuses (503, every connection busy) is counted, not retried.
    let refused = 0;
    for (let n = 0; n < total; n++) {
      const due = started + (n * 1000) / RATE;
      const wait = due - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      const id = `e${n}`;
      writes.push(
        put(server.base, `Encounter/${id}`, {
          resourceType: 'Encounter',
          id,
          status: 'finished',
          class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'IMP' },
          subject: { reference: `Patient/p${n % SUBSCRIPTIONS}` },
        }).then(
          () => {
            committed.set(id, performance.now());
          },
          () => {
            refused++;
          },
        ),
      );
    }
    await Promise.all(writes);
    const achieved = total / ((performance.now() - started) / 1000);
    const load = loadavg()[0];
    const end = performance.now() + 60_000;
    while (arrivals.size < committed.size && performance.now() < end) await new Promise((r) => setTimeout(r, 100));
    // From the write's response (its commit acknowledged): a notification may even come first (negative).
    const latencies = [...arrivals]
      .filter(([id]) => committed.has(id))
      .map(([id, at]) => at - (committed.get(id) as number))
      .sort((a, b) => a - b);
    const p = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))]?.toFixed(0);
    console.log(
      JSON.stringify({
        subscriptions: SUBSCRIPTIONS,
        rate: RATE,
        achievedRate: Number(achieved.toFixed(0)),
        writes: total,
        refused,
        delivered: latencies.length,
        p50: p(0.5),
        p95: p(0.95),
        p99: p(0.99),
        max: latencies.at(-1)?.toFixed(0),
        load1: load.toFixed(1),
      }),
    );
  } finally {
    await server.stop();
    receiver.close();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
