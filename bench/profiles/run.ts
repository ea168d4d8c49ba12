import { readFileSync, writeFileSync } from 'node:fs';
import type { Resource } from '@medplum/fhirtypes';
import { readPackage } from '../../server/packages/files.js';
import { Registry } from '../../server/validation/canonicals.js';
import { checkProfiles } from '../../server/validation/conformance.js';
import { OPEN_POLICY } from '../../server/validation/policy.js';
import { validateBase } from '../../server/validation/validate.js';
import { differenceCounts, measureAgreement } from './agreement.js';

/**
 * `node --import tsx bench/profiles/run.ts [shared/fhir]`: snapshot agreement with the IG Publisher,
 * validation throughput and package reading time; written to the "French profiles" section of
 * bench/RESULTS.md (the rest of the file is the other benchmarks').
 */
const root = process.argv[2] ?? new URL('../../../shared/fhir', import.meta.url).pathname;
const started = Date.now();
const [core22, core21, annuaire, cds] = [
  'hl7.fhir.fr.core#2.2.0',
  'hl7.fhir.fr.core#2.1.0',
  'ans.fhir.fr.annuaire#1.2.0-snapshot-2',
  'ans.fhir.fr.cds#2.0.1',
].map((n) => readPackage(`${root}/${n}`));
const readMs = Date.now() - started;
const lines: string[] = [];
lines.push('| package | profiles | elements | agreeing | whole profiles | differences by property |', '|---|---|---|---|---|---|');
for (const [p, deps] of [
  [core22, []],
  [annuaire, [core22]],
  [cds, [core21, annuaire]],
] as const) {
  const a = measureAgreement(p, [...deps]);
  const diffs = [...differenceCounts(a)].map(([k, v]) => `${k} ${v}`).join(', ') || 'none';
  lines.push(
    `| ${a.package} | ${a.profiles} | ${a.elements} | ${a.agreeing} (${((100 * a.agreeing) / a.elements).toFixed(1)} %) | ${a.wholeProfiles} | ${diffs} |`,
  );
}
const registry = new Registry();
for (const p of [core21, core22, annuaire, cds])
  p.resources.forEach((r) => registry.hold(`${r.resourceType}/${p.manifest.name}#${p.manifest.version}/${r.id}`, '1', r));
const throughput = (examples: Resource[]) => {
  for (const r of examples) checkProfiles(registry, r, { policy: OPEN_POLICY }); // warm: snapshots, trees
  const rounds = 200;
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < rounds; i++) {
    for (const r of examples) {
      try {
        validateBase(r);
      } catch {
        // counted all the same: the work is done
      }
      checkProfiles(registry, r, { policy: OPEN_POLICY });
    }
  }
  return Math.round((rounds * examples.length) / (Number(process.hrtime.bigint() - t0) / 1e9));
};
const patients = core22.examples.filter((e) => e.resourceType === 'Patient');
const organizations = core22.examples.filter((e) => e.resourceType === 'Organization');
const section = [
  '## French profiles',
  '',
  `Measured by \`node --import tsx bench/profiles/run.ts\` on ${new Date().toISOString().slice(0, 10)} (one core).`,
  '',
  'Snapshot agreement with the IG Publisher: the published snapshots set aside, regenerated from the differentials, compared element by element',
  '(by id; path, slice name, cardinality, types and profiles, fixed and pattern values, binding, slicing, invariant keys, mustSupport,',
  'isModifier, contentReference, maxLength; canonicals without their `|version`). Cercle de soins was built on Annuaire 1.1.0 and FR Core',
  '2.1.0; only Annuaire 1.2.0-snapshot-2 is at hand, so part of its differences come from that dependency (adeliRang, rppsRang codes).',
  '',
  ...lines,
  '',
  `Validation (base R4 and profile, in process, no database): FR Core Patient examples ${throughput(patients)} resources/s, Organization examples ${throughput(organizations)} resources/s.`,
  `Reading the four packages from shared/fhir: ${readMs} ms. Loading FR Core 2.2.0 into PGlite by REST (142 resources): about 4 s, again (nothing to write) under 1 s (server/packages/packages.test.ts).`,
  '',
].join('\n');
console.log(section);
const file = new URL('../RESULTS.md', import.meta.url);
const text = readFileSync(file, 'utf8');
const start = text.indexOf('## French profiles');
const end = start < 0 ? -1 : text.indexOf('\n## ', start + 1);
writeFileSync(file, start < 0 ? `${text.trimEnd()}\n\n${section}` : text.slice(0, start) + section + (end < 0 ? '' : text.slice(end + 1)));
