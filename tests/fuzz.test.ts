import { describe, expect, it } from 'vitest';
import { fetchCorpus, gpToken, runFuzz } from './fuzz-run.js';
import { Fuzzer } from './fuzz-requests.js';
import { DATABASES, useServer } from './harness.js';
import { operatorToken, OPERATOR } from './smart.js';

/**
 * Hostile requests from outside (tests/fuzz-requests.ts: mutated resources, Bundles, searches,
 * headers, paths and methods), a fixed seed and a bounded count: no 5xx, every body a JSON
 * resource (an OperationOutcome for errors), and the server still ready at the end. With AUTH on
 * as a médecin of the demo pôle, and with AUTH off; 3 to 12 s of requests per run on a quiet
 * machine, both servers starting from the demo pôle's snapshot. The longer run: bench/fuzz.ts.
 */
const SEED = 20_261_207;
const REQUESTS = 1500;

describe.each(DATABASES)('fuzz on %s', (kind) => {
  describe('AUTH on, a user of the demo pôle', () => {
    const t = useServer(kind, { auth: true, seed: 'demo', ...OPERATOR });

    it(`answers ${REQUESTS} hostile requests without a 5xx and stays ready`, { timeout: 240_000 }, async () => {
      const claire = t.server.demoLogins?.find((l) => l.username === 'claire');
      if (!claire) throw new Error('the demo users were not created');
      const token = await gpToken(t.server.url, claire);
      const corpus = await fetchCorpus(t.server.base, await operatorToken(t.server.url));
      const report = await runFuzz(t.server.base, new Fuzzer(SEED, corpus), REQUESTS, { token });
      expect(report.failures).toEqual([]);
      expect(Object.keys(report.statuses).length).toBeGreaterThan(5);
      expect((await fetch(`${t.server.url}/readyz`)).status).toBe(200);
    });
  });

  describe('AUTH off', () => {
    // The demo pôle, from its snapshot: seeding even part of it by requests took most of this run.
    const t = useServer(kind, { seed: 'demo' });

    it(`answers ${REQUESTS} hostile requests without a 5xx and stays ready`, { timeout: 240_000 }, async () => {
      const corpus = await fetchCorpus(t.server.base);
      const report = await runFuzz(t.server.base, new Fuzzer(SEED + 1, corpus), REQUESTS);
      expect(report.failures).toEqual([]);
      expect((await fetch(`${t.server.url}/readyz`)).status).toBe(200);
    });
  });
});
