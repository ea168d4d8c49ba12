import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import type { OperationOutcomeIssue, Resource } from '@medplum/fhirtypes';
import { fhirBaseOf, loadConfig } from '../server/config.js';
import { createLogger } from '../server/logger.js';
import { openDatabase } from '../server/main.js';
import { readPackage } from '../server/packages/files.js';
import { installPackage } from '../server/packages/install.js';
import { packageSources } from '../server/packages/settings.js';
import { migrate } from '../server/store/migrate.js';
import { parseJson } from '../server/fhir/json.js';
import { FhirError } from '../server/fhir/outcome.js';
import { Registry } from '../server/validation/canonicals.js';
import { checkProfiles } from '../server/validation/conformance.js';
import { OPEN_POLICY, readPolicy } from '../server/validation/policy.js';
import { BUNDLED_PACKAGES, enforcementFile } from '../server/packages/settings.js';
import { structureIssues } from '../server/validation/structure.js';
import { validateBase } from '../server/validation/validate.js';

/** `maillage load-package` and `maillage validate`. */
export function addPackageCommands(program: Command): void {
  program
    .command('load-package <path>')
    .description('load a FHIR package (.tgz or folder) and its dependencies into the database (FHIR_PACKAGES, FHIR_PACKAGE_REGISTRY)')
    .action(async (path: string) => {
      const config = loadConfig();
      const logger = createLogger(config.logLevel);
      const db = await openDatabase(config);
      try {
        await migrate(db);
        const started = Date.now();
        const report = await installPackage(db, fhirBaseOf(config.origin), logger, readPackage(path), packageSources());
        for (const w of report.warnings) console.warn(`warning: ${w}`);
        for (const p of report.packages) console.log(`${p.name}#${p.version}: ${p.resources} resources, ${p.written} written`);
        console.log(`Loaded in ${((Date.now() - started) / 1000).toFixed(1)} s`);
      } finally {
        await db.close();
      }
    });

  program
    .command('validate <file>')
    .description(
      'validate a resource or a Bundle offline against the base definitions, the profiles and the packages given; prints the OperationOutcome, exits 1 on errors',
    )
    .option('--profile <canonical>', 'validate against this profile (else meta.profile and the enforced ones)')
    .option('--package <path...>', "FHIR packages (.tgz or folders) whose profiles to use, besides Maillage's own")
    .action((file: string, opts: { profile?: string; package?: string[] }) => {
      const registry = new Registry();
      for (const path of [...BUNDLED_PACKAGES, ...(opts.package ?? [])]) {
        const pkg = readPackage(path);
        pkg.resources.forEach((r) => registry.hold(`${r.resourceType}/${pkg.manifest.name}/${r.id}`, '1', r));
      }
      const policy = opts.profile ? OPEN_POLICY : readPolicy(enforcementFile());
      const { resource, issues } = readResource(file);
      const entries = resource?.resourceType === 'Bundle' ? (resource.entry ?? []).flatMap((e) => (e.resource ? [e.resource] : [])) : [];
      for (const [i, r] of (resource ? [resource, ...entries] : []).entries()) {
        const at = (issue: OperationOutcomeIssue) =>
          i === 0 ? issue : { ...issue, expression: issue.expression?.map((e) => `Bundle.entry[${i - 1}].resource.${e}`) };
        try {
          issues.push(...validateBase(r).map(at));
        } catch (err) {
          if (!(err instanceof FhirError)) throw err;
          issues.push(...(err.outcome.issue ?? []).map(at));
        }
        issues.push(...checkProfiles(registry, r, { policy, ...(opts.profile && i === 0 ? { profiles: [opts.profile] } : {}) }).issues.map(at));
      }
      console.log(
        JSON.stringify(
          {
            resourceType: 'OperationOutcome',
            issue: issues.length ? issues : [{ severity: 'information', code: 'informational', details: { text: 'No issue found' } }],
          },
          null,
          2,
        ),
      );
      if (issues.some((x) => x.severity === 'error' || x.severity === 'fatal')) process.exitCode = 1;
    });
}

/**
 * The resource of a file, parsed as a request body is (bounded, in R4's JSON structure), or the
 * faults that keep it from being validated further.
 */
function readResource(file: string): { resource?: Resource; issues: OperationOutcomeIssue[] } {
  try {
    const resource = parseJson(readFileSync(file, 'utf8'), loadConfig().maxJsonDepth, 'The file') as Resource;
    const issues = structureIssues(resource);
    return issues.length ? { issues } : { resource, issues };
  } catch (err) {
    if (!(err instanceof FhirError)) throw err;
    return { issues: err.outcome.issue ?? [] };
  }
}
