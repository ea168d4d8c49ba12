/**
 * The write cost of the change feed, measured beside the same server without it: `maillage serve`
 * from two checkouts (this one, and BASELINE_DIR, e.g. a worktree of main), each on a fresh
 * PostgreSQL database, alternated ROUNDS times; creates (POST Patient) and transactions (20
 * Observations each) at CONCURRENCY. Prints the medians.
 *
 *   BASELINE_DIR=/work/main node --import tsx bench/feed-cost.ts
 */
import { serveOnFreshDatabase } from './harness/fresh-server.js';

const BASELINE = process.env.BASELINE_DIR ?? '/work/main';
const ROUNDS = Number(process.env.ROUNDS ?? 2);
const CREATES = Number(process.env.CREATES ?? 1000);
const TRANSACTIONS = Number(process.env.TRANSACTIONS ?? 50);
const CONCURRENCY = Number(process.env.CONCURRENCY ?? 8);

async function rate(total: number, one: (i: number) => Promise<void>): Promise<number> {
  let next = 0;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < total) await one(next++);
    }),
  );
  return total / ((performance.now() - start) / 1000);
}

async function measure(dir: string) {
  const s = await serveOnFreshDatabase('maillage_bench_feed', { dir });
  const post = async (path: string, body: unknown) => {
    const res = await fetch(`${s.base}/${path}`, { method: 'POST', headers: { 'content-type': 'application/fhir+json' }, body: JSON.stringify(body) });
    await res.arrayBuffer();
    if (res.status >= 300) throw new Error(`${path}: ${res.status}`);
  };
  // Warm-up.
  await rate(100, (i) => post('Patient', { resourceType: 'Patient', name: [{ family: `W${i}` }] }));
  const creates = await rate(CREATES, (i) => post('Patient', { resourceType: 'Patient', name: [{ family: `P${i}` }] }));
  const transactions = await rate(TRANSACTIONS, (i) =>
    post('', {
      resourceType: 'Bundle',
      type: 'transaction',
      entry: Array.from({ length: 20 }, (_, j) => ({
        resource: { resourceType: 'Observation', status: 'final', code: { text: `o${i}-${j}` }, subject: { reference: 'Patient/x' } },
        request: { method: 'POST', url: 'Observation' },
      })),
    }),
  );
  await s.stop();
  return { creates, transactions };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const results: Record<string, { creates: number[]; transactions: number[] }> = {
  baseline: { creates: [], transactions: [] },
  feed: { creates: [], transactions: [] },
};
for (let r = 0; r < ROUNDS; r++) {
  for (const [label, dir] of [
    ['baseline', BASELINE],
    ['feed', process.cwd()],
  ] as const) {
    const m = await measure(dir);
    results[label].creates.push(m.creates);
    results[label].transactions.push(m.transactions);
    console.log(label, `round ${r + 1}`, `creates/s ${m.creates.toFixed(0)}`, `transactions/s ${m.transactions.toFixed(1)}`);
  }
}
for (const [label, r] of Object.entries(results)) {
  console.log(label, 'median', `creates/s ${median(r.creates).toFixed(0)}`, `transactions/s ${median(r.transactions).toFixed(1)} (x20 resources)`);
}
