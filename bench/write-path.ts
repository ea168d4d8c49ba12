/**
 * The CPU a write spends on a resource before the database sees it: base validation
 * (validateBase), the profile walk (checkProfiles) and the extraction of its search index rows
 * (extractIndex), in process, no database, no HTTP. On the R4 specification's examples (npm
 * `hl7.fhir.r4.examples`, what tests/examples/ PUTs) and on the Synthea bundles of
 * ../shared/data/synthea (or SYNTHEA_DIR). Prints, per data set, resources/s for the whole (per
 * elapsed second and per second of the process's CPU) and the time of each stage, the median of 3
 * rounds after a warm-up.
 *
 *   node --import tsx bench/write-path.ts [--root <tree>] [--synthea N] [--examples N] [--rounds N]
 *   node --cpu-prof --import tsx bench/write-path.ts ...      # where the time goes
 *   node --import tsx bench/write-path.ts --slowest 20        # also the 20 resources that cost most, per stage
 *   node --import tsx bench/write-path.ts --rows <file.json>  # every resource's index rows, to compare two trees
 *   node --import tsx bench/write-path.ts --check             # the quick walk never passes what @medplum/core's validator refuses
 *
 * `--root` takes the modules from another checkout of Maillage (another branch's worktree), for a
 * before/after on the same machine in the same run.
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import type { Bundle, Resource } from '@medplum/fhirtypes';
import Bunzip from 'seek-bzip';
import { loadAverage } from './harness/machine.js';

const args = process.argv.slice(2);
const option = (name: string) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const root = resolve(option('--root') ?? join(import.meta.dirname, '..'));
const synthea = Number(option('--synthea') ?? 20_000);
const examples = Number(option('--examples') ?? 10_000);
const rounds = Number(option('--rounds') ?? 3);
const rowsFile = option('--rows');
const check = args.includes('--check');
const slowest = Number(option('--slowest') ?? 0);
const FHIR_BASE = 'http://localhost:8080/fhir';

const { validateBase } = (await import(join(root, 'server/validation/validate.ts'))) as typeof import('../server/validation/validate.js');
const { checkProfiles } = (await import(join(root, 'server/validation/conformance.ts'))) as typeof import('../server/validation/conformance.js');
const { Registry } = (await import(join(root, 'server/validation/canonicals.ts'))) as typeof import('../server/validation/canonicals.js');
const { extractIndex } = (await import(join(root, 'server/search/extract.ts'))) as typeof import('../server/search/extract.js');

/** The R4 examples, as tests/examples/ PUTs them (sorted by file name). */
function r4Examples(): { name: string; resource: Resource }[] {
  const dir = dirname(createRequire(import.meta.url).resolve('hl7.fhir.r4.examples/package.json'));
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json') && f !== 'package.json')
    .sort()
    .slice(0, examples)
    .map((f) => ({ name: f, resource: JSON.parse(readFileSync(join(dir, f), 'utf8')) as Resource }));
}

/** The Synthea resources, their urn:uuid and conditional references made literal as a transaction (or bench/bulk.ts's NDJSON) makes them. */
function syntheaResources(): Resource[] {
  const dir = process.env.SYNTHEA_DIR ?? join(import.meta.dirname, '../../../shared/data/synthea');
  const entries: { fullUrl?: string; resource: Resource }[] = [];
  for (const file of readdirSync(dir).sort()) {
    if (!file.endsWith('.json.bz2') || entries.length >= synthea) continue;
    const bundle = JSON.parse(Bunzip.decode(readFileSync(join(dir, file))).toString('utf8')) as Bundle;
    for (const { fullUrl, resource } of bundle.entry ?? []) if (resource && entries.length < synthea) entries.push({ fullUrl, resource });
  }
  const refs = new Map<string, string>();
  for (const { fullUrl, resource } of entries) {
    resource.id ??= fullUrl?.replace('urn:uuid:', '');
    if (fullUrl) refs.set(fullUrl, `${resource.resourceType}/${resource.id}`);
    const identifiers = (resource as { identifier?: { system?: string; value?: string }[] }).identifier ?? [];
    for (const i of identifiers) refs.set(`${resource.resourceType}?identifier=${i.system}|${i.value}`, `${resource.resourceType}/${resource.id}`);
  }
  return entries.map(({ resource }) =>
    JSON.parse(JSON.stringify(resource), (k, v) => (k === 'reference' && typeof v === 'string' && refs.has(v) ? refs.get(v) : v)),
  );
}

const registry = new Registry();
const policy = { required: {}, requireKnownProfiles: false };

/** One pass over the resources: each stage's milliseconds, and how many validateBase refused. */
function pass(resources: Resource[], costs?: { resource: Resource; ms: number[] }[]) {
  const ms = { validateBase: 0, checkProfiles: 0, extractIndex: 0 };
  let refused = 0;
  // CPU time as well as elapsed: on a machine shared with other work, the elapsed time counts their turns too.
  const cpu = process.cpuUsage();
  for (const r of resources) {
    const before = [ms.validateBase, ms.checkProfiles, ms.extractIndex];
    let t = performance.now();
    try {
      validateBase(r);
    } catch {
      refused++;
    }
    let u = performance.now();
    ms.validateBase += u - t;
    checkProfiles(registry, r, { policy });
    t = performance.now();
    ms.checkProfiles += t - u;
    extractIndex(r, FHIR_BASE);
    u = performance.now();
    ms.extractIndex += u - t;
    costs?.push({ resource: r, ms: [ms.validateBase - before[0], ms.checkProfiles - before[1], ms.extractIndex - before[2]] });
  }
  const used = process.cpuUsage(cpu);
  return { ms, refused, cpuMs: (used.user + used.system) / 1000 };
}

function measure(name: string, resources: Resource[]) {
  pass(resources); // warm-up: definitions, value sets, compiled expressions
  const runs = Array.from({ length: rounds }, () => pass(resources));
  const total = (r: (typeof runs)[number]) => r.ms.validateBase + r.ms.checkProfiles + r.ms.extractIndex;
  runs.sort((a, b) => total(a) - total(b));
  const median = runs[Math.floor(runs.length / 2)];
  const costs: { resource: Resource; ms: number[] }[] = [];
  if (slowest) pass(resources, costs);
  const top = (stage: number) =>
    costs
      .sort((a, b) => b.ms[stage] - a.ms[stage])
      .slice(0, slowest)
      .map((c) => `${c.resource.resourceType}/${c.resource.id} ${c.ms[stage].toFixed(1)} ms`);
  const perResource = (x: number) => Math.round((x * 1000) / resources.length);
  return {
    data: name,
    resources: resources.length,
    refused: median.refused,
    resourcesPerSecond: Math.round(resources.length / (total(median) / 1000)),
    resourcesPerCpuSecond: Math.round(resources.length / (median.cpuMs / 1000)),
    microsecondsPerResource: Object.fromEntries(Object.entries(median.ms).map(([k, v]) => [k, perResource(v)])),
    rounds: runs.map((r) => Math.round(resources.length / (total(r) / 1000))),
    ...(slowest ? { slowest: { validateBase: top(0), checkProfiles: top(1), extractIndex: top(2) } } : {}),
  };
}

if (check) {
  // Every resource the quick walk finds clean must be one @medplum/core's validator has nothing to say of.
  const { validateResource, OperationOutcomeError } = await import('@medplum/core');
  const { medplumFindsNothing } = await import('../server/validation/medplum-clean.js');
  const { loadBaseDefinitions } = await import('../server/validation/registry.js');
  loadBaseDefinitions();
  const all = [...r4Examples().map((e) => e.resource), ...syntheaResources()];
  let clean = 0;
  let silent = 0;
  const wrong: string[] = [];
  for (const r of all) {
    let issues: unknown[];
    try {
      issues = validateResource(r);
    } catch (err) {
      issues = err instanceof OperationOutcomeError ? (err.outcome.issue ?? []) : [err];
    }
    const quick = medplumFindsNothing(r);
    if (quick) clean++;
    if (!issues.length) silent++;
    if (quick && issues.length) wrong.push(`${r.resourceType}/${r.id}: ${JSON.stringify(issues[0]).slice(0, 300)}`);
  }
  console.log(JSON.stringify({ resources: all.length, medplumSilent: silent, quickClean: clean, wrong }, null, 1));
  if (wrong.length) process.exitCode = 1;
} else if (rowsFile) {
  // Every resource's index rows (those validateBase refuses too: extraction does not depend on it).
  const rows = Object.fromEntries([
    ...r4Examples().map(({ name, resource }) => [name, extractIndex(resource, FHIR_BASE)]),
    ...syntheaResources().map((r, i) => [`synthea-${i}`, extractIndex(r, FHIR_BASE)]),
  ]);
  writeFileSync(rowsFile, JSON.stringify(rows));
  console.log(`${Object.keys(rows).length} resources' index rows written to ${rowsFile}`);
} else {
  const load = loadAverage();
  const results = [];
  if (examples > 0)
    results.push(
      measure(
        'R4 examples',
        r4Examples().map((e) => e.resource),
      ),
    );
  if (synthea > 0) results.push(measure('Synthea', syntheaResources()));
  console.log(JSON.stringify({ root, loadBefore: load, loadAfter: loadAverage(), results }, null, 1));
}
