import type { Patient, Resource } from '@medplum/fhirtypes';
import { careLinks } from '../access/care-links.js';
import { ID_RE } from '../fhir/ids.js';
import { parseJson } from '../fhir/json.js';
import { FhirError } from '../fhir/outcome.js';
import { checkResourceBody } from '../interactions/write.js';
import { namedPatients } from '../search/compartments.js';
import { extractIndex } from '../search/extract.js';
import { searchParametersChanged, syncSearchParametersOnce } from '../search/loaded-params.js';
import type { CareLink } from '../store/care-links.js';
import { signalWrite } from '../store/change-signals.js';
import type { Database, Queryable } from '../store/db.js';
import { copyVersions } from '../store/copy-versions.js';
import type { IndexRows } from '../store/index-tables.js';
import { writeVersion, type NewVersion, type StoredVersion } from '../store/resources.js';
import { storeFor } from '../stores/by-type.js';
import type { Registry } from '../validation/canonicals.js';
import { checkProfiles, enforceConformance } from '../validation/conformance.js';
import { policyOf, type ConformancePolicy } from '../validation/policy.js';
import { syncRegistry } from '../validation/registry-sync.js';
import { checkExpressionCost } from '../validation/expression-cost.js';
import { checkIdentity } from '../validation/identity.js';
import { isResourceType } from '../validation/registry.js';

/**
 * A resource ready to be written: checked, its index rows, patients and care links extracted.
 * Plain data, as a worker thread hands it over (prepare-worker.ts).
 */
export interface Prepared {
  line: number;
  version: NewVersion & { content: string };
  index: IndexRows;
  links?: CareLink[];
  /** Some of its references must point to resources of a profile: checked when written, against the database. */
  checkTargets: boolean;
}

/** What a resource is checked against besides the base definitions: the profiles held and the policy in force. */
export interface ProfileContext {
  registry: Registry;
  policy: ConformancePolicy;
}

/** A line that could not go in: where, and why. */
export interface LineError {
  source: string;
  line: number;
  reason: string;
}

export interface ImportOptions {
  fhirBase: string;
  testIdentities: boolean;
  maxJsonDepth?: number;
}

const reasonOf = (err: unknown) =>
  err instanceof FhirError
    ? (err.outcome.issue ?? [])
        .filter((i) => i.severity === 'error' || i.severity === 'fatal')
        .map((i) => `${i.diagnostics ?? i.details?.text ?? i.code}${i.expression?.length ? ` (${i.expression.join(', ')})` : ''}`)
        .join('; ') || err.message
    : (err as Error).message;

/**
 * Parses and checks one NDJSON line as any write checks a resource (base definition, a Patient's
 * identity, a definition's expressions, the profiles it claims and those the policy requires but
 * for what they say of referenced resources), keeping its id; its meta.versionId and lastUpdated are
 * kept too (as Microsoft's incremental import does), so that an export imported elsewhere is the
 * same resources, byte for byte. Returns the reason when it cannot go in.
 */
export function prepareLine(text: string, line: number, o: ImportOptions, profiles: ProfileContext): Prepared | string {
  try {
    const body = parseJson(text, o.maxJsonDepth, `Line ${line}`) as Resource;
    const type = (body as { resourceType?: unknown })?.resourceType;
    if (typeof type !== 'string' || !isResourceType(type)) throw new Error(`Not a FHIR resource type: ${String(type)}`);
    if (storeFor(type).readOnly) throw new Error(`${type} resources are not imported: ${storeFor(type).readOnly}`);
    checkResourceBody(type, body);
    if (typeof body.id !== 'string' || !ID_RE.test(body.id)) throw new Error('The resource needs a valid id: an import keeps ids');
    const { resourceType, id, meta, ...rest } = body;
    const version = /^[1-9]\d{0,8}$/.test(meta?.versionId ?? '') ? Number(meta?.versionId) : 1;
    const given = meta?.lastUpdated ? new Date(meta.lastUpdated) : undefined;
    const lastUpdated = given && !Number.isNaN(given.getTime()) ? given : new Date();
    const resource = { resourceType, id, meta: { ...meta, versionId: String(version), lastUpdated: lastUpdated.toISOString() }, ...rest } as Resource;
    if (type === 'Patient') checkIdentity(resource as Patient, o.testIdentities);
    checkExpressionCost(resource);
    const findings = checkProfiles(profiles.registry, resource, { policy: profiles.policy });
    const checkTargets = findings.references.length > 0;
    if (!checkTargets && findings.issues.some((i) => i.severity === 'error' || i.severity === 'fatal'))
      throw new FhirError(422, { resourceType: 'OperationOutcome', issue: findings.issues });
    const index = extractIndex(resource, o.fhirBase);
    return {
      line,
      index,
      links: careLinks(resource, type, o.fhirBase),
      checkTargets,
      version: { type, id, version, lastUpdated, method: 'PUT', content: JSON.stringify(resource), patients: namedPatients(type, id, index) },
    };
  } catch (err) {
    return reasonOf(err);
  }
}

/** The resource of a prepared line, parsed again from what will be stored (rarely needed: updates, and the checks of targets). */
const resourceOf = (p: Prepared) => parseJson(p.version.content, Number.POSITIVE_INFINITY) as Resource;

/** The current rows of the resources of a batch, locked until it commits. */
async function currentRows(tx: Queryable, batch: Prepared[]): Promise<Map<string, StoredVersion>> {
  const rows = await tx.query<StoredVersion>(
    `SELECT r.rid, r.type, r.id, r.version, r.last_updated AS "lastUpdated", r.deleted, r.content
       FROM resource r JOIN unnest($1::text[], $2::text[]) AS k(type, id) ON r.type = k.type AND r.id = k.id FOR UPDATE OF r`,
    [batch.map((p) => p.version.type), batch.map((p) => p.version.id)],
  );
  return new Map(rows.map((r) => [`${r.type}/${r.id}`, r]));
}

/** The profiles of the database, brought up to date in `tx`: what a batch's resources are checked against. */
export async function profileContext(db: Database, tx: Queryable = db): Promise<ProfileContext> {
  return { registry: await syncRegistry(db, tx), policy: policyOf(db) };
}

/**
 * Writes a batch of checked resources in one transaction, with `andThen` (the import's progress
 * and errors) in it: all of it or none, so a crash leaves no half-written resource and the
 * progress says exactly where to resume. New resources go in with COPY, all their rows at once
 * (store/copy-versions.ts); a resource already there gets its next version (its content as given,
 * its meta the server's), one statement each. A resource whose profiles say what its references'
 * targets must be is checked here against the stored targets, refused and reported if they fail.
 */
export async function writeBatch(
  db: Database,
  fhirBase: string,
  batch: Prepared[],
  refused: (p: Prepared, reason: string) => void,
  andThen: (tx: Queryable, written: Prepared[]) => Promise<void>,
): Promise<void> {
  await db.transaction(async (tx) => {
    await syncSearchParametersOnce(tx);
    const ok: Prepared[] = [];
    for (const p of batch) {
      try {
        // The whole check, which reads the references' targets.
        if (p.checkTargets) await enforceConformance(db, tx, fhirBase, resourceOf(p));
        ok.push(p);
      } catch (err) {
        if (!(err instanceof FhirError)) throw err;
        refused(p, reasonOf(err));
      }
    }
    const current = await currentRows(tx, ok);
    await copyVersions(
      tx,
      ok.filter((p) => !current.has(`${p.version.type}/${p.version.id}`)),
    );
    for (const p of ok) {
      const previous = current.get(`${p.version.type}/${p.version.id}`);
      if (!previous) continue;
      const version = previous.version + 1;
      const lastUpdated = new Date(Math.max(Date.now(), previous.lastUpdated.getTime() + 1));
      const resource = resourceOf(p);
      const content = JSON.stringify({ ...resource, meta: { ...resource.meta, versionId: String(version), lastUpdated: lastUpdated.toISOString() } });
      await writeVersion(tx, previous, { ...p.version, version, lastUpdated, content }, p.index, p.links);
    }
    for (const type of new Set(ok.map((p) => p.version.type))) signalWrite(type);
    if (ok.some((p) => p.version.type === 'SearchParameter')) searchParametersChanged(tx);
    await andThen(tx, ok);
  });
}
