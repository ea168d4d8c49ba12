import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { mayHoldExact, parseExact, stringifyExact } from '../server/fhir/exact-json.js';

/**
 * The CPU cost of exact decimals on the paths they touch, per resource, against JSON.parse and
 * JSON.stringify (what those paths did before): a create parses the body and writes its JSON; a
 * search with _elements or a history page parses stored JSON and writes it again. (A create also
 * walks the body for its bounds, before and after alike: left out, the cost is overstated.) A read,
 * and a search without _elements, send the stored text as it is: nothing changed there.
 * Bodies: the R4 specification's Observations and Patients as published (decimals such as 1.0
 * in some), and as JSON.stringify writes them (what the bench's data set and most clients send).
 *   node --import tsx bench/exact-decimals.ts
 */
const dir = dirname(createRequire(import.meta.url).resolve('hl7.fhir.r4.examples/package.json'));
const published = readdirSync(dir)
  .filter((f) => /^(Observation|Patient)-.*\.json$/.test(f))
  .map((f) => readFileSync(join(dir, f), 'utf8'));
const compact = published.map((t) => JSON.stringify(JSON.parse(t)));

/** µs per resource, the fastest of 7 runs (the machine is shared: the minimum is the least disturbed). */
function time(texts: string[], fn: (text: string) => unknown): number {
  let best = Number.POSITIVE_INFINITY;
  for (let run = 0; run < 7; run++) {
    const started = process.hrtime.bigint();
    for (let i = 0; i < 30; i++) for (const t of texts) fn(t);
    best = Math.min(best, Number(process.hrtime.bigint() - started) / 1000 / (30 * texts.length));
  }
  return best;
}

for (const [name, texts] of [
  ['published', published],
  ['compact', compact],
] as const) {
  console.log(`\n${name}: ${texts.length} resources, ${Math.round(texts.reduce((n, t) => n + t.length, 0) / texts.length)} bytes on average`);
  const parse = time(texts, (t) => JSON.parse(t));
  const look = time(texts, (t) => mayHoldExact(t));
  console.log(`  JSON.parse ${parse.toFixed(1)} µs; the look for decimals to keep ${look.toFixed(2)} µs (${((look / parse) * 100).toFixed(1)} % of it)`);
  for (let round = 0; round < 3; round++) {
    const before = time(texts, (t) => JSON.stringify(JSON.parse(t)));
    const after = time(texts, (t) => stringifyExact(parseExact(t)));
    console.log(
      `  before (JSON.parse + JSON.stringify) ${before.toFixed(1)} µs, after (parseExact + stringifyExact) ${after.toFixed(1)} µs: ${(((after - before) / before) * 100).toFixed(1)} %`,
    );
  }
}
