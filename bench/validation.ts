/**
 * Validation throughput on Synthea resources: what every write costs before it is stored. Reads
 * the Synthea bundles of ../shared/data/synthea (or SYNTHEA_DIR), takes their resources, and runs
 * the base validation (validateBase: structure, @medplum/core, bindings, datatype invariants,
 * Bundle rules) and the profile walk (checkProfiles: extensions, French identifiers, ...) on each,
 * in process, no database. Prints resources/s, the median of 3 rounds.
 *
 *   node --import tsx bench/validation.ts [--root <tree>] [--resources N]
 *
 * `--root` takes the modules from another checkout of Maillage (another branch's worktree), for
 * a before/after on the same machine in the same run.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Bundle, Resource } from '@medplum/fhirtypes';
import Bunzip from 'seek-bzip';

const args = process.argv.slice(2);
const option = (name: string) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const root = resolve(option('--root') ?? join(import.meta.dirname, '..'));
const wanted = Number(option('--resources') ?? 20_000);
const dir = process.env.SYNTHEA_DIR ?? join(import.meta.dirname, '../../../shared/data/synthea');

const { validateBase } = (await import(join(root, 'server/validation/validate.ts'))) as typeof import('../server/validation/validate.js');
const { checkProfiles } = (await import(join(root, 'server/validation/conformance.ts'))) as typeof import('../server/validation/conformance.js');
const { Registry } = (await import(join(root, 'server/validation/canonicals.ts'))) as typeof import('../server/validation/canonicals.js');

const resources: Resource[] = [];
for (const file of readdirSync(dir).sort()) {
  if (!file.endsWith('.json.bz2') || resources.length >= wanted) continue;
  const bundle = JSON.parse(Bunzip.decode(readFileSync(join(dir, file))).toString('utf8')) as Bundle;
  for (const entry of bundle.entry ?? []) if (entry.resource && resources.length < wanted) resources.push(entry.resource);
}

const registry = new Registry();
const policy = { required: {}, requireKnownProfiles: false };
let failed = 0;
const round = (): number => {
  const started = performance.now();
  for (const r of resources) {
    try {
      validateBase(r);
    } catch {
      failed++;
    }
    checkProfiles(registry, r, { policy });
  }
  return resources.length / ((performance.now() - started) / 1000);
};
round(); // warm-up: definitions, value sets, compiled expressions
const rates = [round(), round(), round()].sort((a, b) => a - b);
console.log(
  JSON.stringify({ root, resources: resources.length, refusedPerRound: failed / 4, resourcesPerSecond: Math.round(rates[1]), rounds: rates.map(Math.round) }),
);
