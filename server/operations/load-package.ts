import type { OperationOutcome, Parameters } from '@medplum/fhirtypes';
import { badRequest, fail } from '../fhir/outcome.js';
import type { Context, FhirRequest, FhirResponse } from '../interactions/context.js';
import { readPackageTgz, type FhirPackage } from '../packages/files.js';
import { installPackage, PackageError } from '../packages/install.js';
import { packageSources } from '../packages/settings.js';
import { fromFolder, fromRegistry } from '../packages/sources.js';

/**
 * POST [base]/$load-package: loads a FHIR package and its dependencies. The body is the package's
 * .tgz (Content-Type application/gzip), or a Parameters with `name` and `version` of a package in
 * the packages folder or the registry. Answers what was loaded, with warnings (versions used in
 * place of pinned ones, stand-ins); a missing dependency is a 422 naming it.
 */
export async function loadPackageOperation(ctx: Context, req: FhirRequest): Promise<FhirResponse> {
  const sources = packageSources();
  let pkg: FhirPackage | undefined;
  if (Buffer.isBuffer(req.body)) {
    try {
      pkg = readPackageTgz(req.body);
    } catch (err) {
      throw badRequest((err as Error).message);
    }
  } else if ((req.body as Parameters | undefined)?.resourceType === 'Parameters') {
    const params = (req.body as Parameters).parameter ?? [];
    const name = params.find((p) => p.name === 'name')?.valueString;
    const version = params.find((p) => p.name === 'version')?.valueString;
    if (!name || !version) throw badRequest('Give the package as a .tgz body, or its name and version as parameters');
    pkg = fromFolder(sources.folder, name, version) ?? (await fromRegistry(sources.registry, name, version));
    if (!pkg) throw fail(404, 'not-found', `${name}#${version} is neither in ${sources.folder} nor at ${sources.registry ?? 'a registry'}`);
  } else {
    throw badRequest('Give the package as a .tgz body (Content-Type application/gzip), or a Parameters with name and version');
  }
  let report: Awaited<ReturnType<typeof installPackage>>;
  try {
    report = await installPackage(ctx.db.maintenance(), ctx.fhirBase, ctx.log, pkg, sources);
  } catch (err) {
    if (err instanceof PackageError) throw fail(422, 'not-found', err.message);
    throw err;
  }
  const outcome: OperationOutcome = {
    resourceType: 'OperationOutcome',
    issue: [
      ...report.packages.map((p) => ({
        severity: 'information' as const,
        code: 'informational' as const,
        details: { text: `${p.name}#${p.version}: ${p.resources} resources, ${p.written} written` },
      })),
      ...report.warnings.map((w) => ({ severity: 'warning' as const, code: 'informational' as const, details: { text: w } })),
    ],
  };
  return { status: 200, resource: outcome };
}
