import type { Resource, StructureDefinition } from '@medplum/fhirtypes';
import type { Logger } from 'pino';
import { ID_RE } from '../fhir/ids.js';
import { persist } from '../interactions/write.js';
import type { Database, Queryable } from '../store/db.js';
import { readCurrent } from '../store/resources.js';
import { compareVersions, Registry } from '../validation/canonicals.js';
import { conformanceWritten, syncRegistry } from '../validation/registry-sync.js';
import { SNAPSHOT_GENERATOR_VERSION } from '../validation/snapshot.js';
import { structureDefinition, withSnapshot, type Substitution } from '../validation/structures.js';
import type { FhirPackage } from './files.js';
import { fromFolder, fromRegistry, nearestInFolder, STAND_INS, type PackageSources } from './sources.js';

/** What loading a package did. */
export interface InstallReport {
  packages: { name: string; version: string; resources: number; written: number }[];
  warnings: string[];
}

/** Tags a StructureDefinition whose snapshot Maillage generated (and with which generator). */
export const GENERATED_SNAPSHOT = 'https://fhir.maillage.fr/CodeSystem/generated-snapshot';

export class PackageError extends Error {}

/**
 * Loads a FHIR package and its dependencies into the database, each in the order its dependencies
 * need: its resources are written through the write path (history, search index), with the ids
 * they have unless another version of the resource holds that id. Loading again changes nothing.
 * StructureDefinitions that come without a snapshot are stored with one generated.
 */
export async function installPackage(db: Database, fhirBase: string, log: Logger, pkg: FhirPackage, sources: PackageSources): Promise<InstallReport> {
  const report: InstallReport = { packages: [], warnings: [] };
  const order: FhirPackage[] = [];
  await collect(db, pkg, sources, report, order, new Set());
  for (const p of order) {
    const started = Date.now();
    const written = await db.transaction((tx) => writePackage(db, tx, fhirBase, p, report));
    conformanceWritten(db);
    report.packages.push({ name: p.manifest.name, version: p.manifest.version, resources: p.resources.length, written });
    log.info({ package: `${p.manifest.name}#${p.manifest.version}`, resources: p.resources.length, written, ms: Date.now() - started }, 'package loaded');
  }
  return report;
}

/** Resolves dependencies depth first: the folder, the registry, stand-ins, then the nearest version held. */
async function collect(db: Database, pkg: FhirPackage, sources: PackageSources, report: InstallReport, order: FhirPackage[], seen: Set<string>): Promise<void> {
  const key = `${pkg.manifest.name}#${pkg.manifest.version}`;
  if (seen.has(key)) return;
  seen.add(key);
  for (const [name, version] of Object.entries(pkg.manifest.dependencies ?? {})) {
    const dep = fromFolder(sources.folder, name, version) ?? (await fromRegistry(sources.registry, name, version));
    if (dep) {
      await collect(db, dep, sources, report, order, seen);
      continue;
    }
    if (await packageHeld(db, name, version)) continue;
    if (STAND_INS[name]) {
      report.warnings.push(`${name}#${version} (needed by ${key}) is not at hand: ${STAND_INS[name]} stand in for it`);
      continue;
    }
    const nearest = nearestInFolder(sources.folder, name, version);
    if (nearest) {
      report.warnings.push(`${name}#${version} (needed by ${key}) is not at hand: ${name}#${nearest} is used in its place`);
      await collect(db, fromFolder(sources.folder, name, nearest) as FhirPackage, sources, report, order, seen);
      continue;
    }
    const held = await heldVersions(db, name);
    if (held.length) {
      report.warnings.push(`${name}#${version} (needed by ${key}) is not at hand: ${name}#${held[0]}, already loaded, is used in its place`);
      continue;
    }
    const where = [sources.folder && `in ${sources.folder}`, sources.registry && `at ${sources.registry}`].filter(Boolean).join(' or ') || 'anywhere';
    throw new PackageError(`Missing dependency ${name}#${version}, needed by ${key}: not found ${where}, nor loaded before`);
  }
  order.push(pkg);
}

/** The source tag a loaded resource carries in meta.source: the package it came from. */
export function packageSource(name: string, version: string): string {
  return `fhir-package:${name}#${version}`;
}

/** The versions of a package the database holds (by its ImplementationGuide's source), newest first. */
export async function heldVersions(db: Database, name: string): Promise<string[]> {
  const rows = await db.query<{ source: string }>(
    `SELECT DISTINCT (content::jsonb)#>>'{meta,source}' AS source FROM resource
      WHERE type = 'ImplementationGuide' AND NOT deleted AND (content::jsonb)#>>'{meta,source}' LIKE $1`,
    [`${packageSource(name, '')}%`],
  );
  return rows.map((r) => r.source.slice(packageSource(name, '').length)).sort((a, b) => compareVersions(b, a));
}

async function packageHeld(db: Database, name: string, version: string): Promise<boolean> {
  return (await heldVersions(db, name)).includes(version);
}

/** Writes a package's resources in one transaction; returns how many were new or changed. */
/** Serialises package installs across processes sharing the database. */
const PACKAGE_LOCK = 4_271_832;

async function writePackage(db: Database, tx: Queryable, fhirBase: string, pkg: FhirPackage, report: InstallReport): Promise<number> {
  // Processes started together install one after the other: the later finds the package written, and writes nothing.
  await tx.query('SELECT pg_advisory_xact_lock($1)', [PACKAGE_LOCK]);
  const source = packageSource(pkg.manifest.name, pkg.manifest.version);
  const registry = await syncRegistry(db, tx);
  // The package's own definitions, for snapshots of its differential-only profiles.
  const scratch = overlay(registry, pkg.resources);
  const substitutions: Substitution[] = [];
  let written = 0;
  for (const original of pkg.resources) {
    if (!original.id || !ID_RE.test(original.id)) continue;
    let resource: Resource = { ...original, meta: { ...original.meta, source } };
    if (resource.resourceType === 'StructureDefinition') resource = withGeneratedSnapshot(scratch, resource, substitutions, report);
    const id = await freeId(tx, resource);
    const current = await readCurrent(tx, resource.resourceType, id, true);
    if (current?.content && !current.deleted && sameContent(JSON.parse(current.content) as Resource, resource)) continue;
    await persist({ fhirBase }, tx, current, { type: resource.resourceType, id }, { ...resource, id }, 'PUT');
    written++;
  }
  for (const s of new Map(substitutions.map((x) => [x.canonical, x])).values()) {
    report.warnings.push(`${pkg.manifest.name}#${pkg.manifest.version} pins ${s.canonical}, which is not held: ${s.used} is used in its place`);
  }
  return written;
}

/** A registry that also holds the resources of a package being loaded, for its snapshots. */
function overlay(registry: Registry, resources: Resource[]): Registry {
  const scratch = Object.create(registry) as Registry;
  const own = new Registry();
  resources.forEach((r, i) => own.hold(`${r.resourceType}/pkg-${i}`, '1', r));
  scratch.resolve = (type, canonical) => own.resolve(type, canonical) ?? registry.resolve(type, canonical);
  // Only the package's own resources come first: own.resolve falls back to the specification for the rest.
  return scratch;
}

function withGeneratedSnapshot(registry: Registry, sd: StructureDefinition, substitutions: Substitution[], report: InstallReport): StructureDefinition {
  // Pinned canonicals are resolved now, to tell the integrator which versions stand in for which.
  for (const c of pinnedCanonicals(sd)) structureDefinition(registry, c, substitutions);
  if (sd.snapshot?.element?.length) return sd;
  try {
    const full = withSnapshot(registry, sd, substitutions);
    const tag = { system: GENERATED_SNAPSHOT, code: String(SNAPSHOT_GENERATOR_VERSION) };
    return { ...full, meta: { ...full.meta, tag: [...(full.meta?.tag ?? []), tag] } };
  } catch (err) {
    report.warnings.push(`No snapshot for ${sd.url}: ${(err as Error).message}`);
    return sd;
  }
}

/** The canonicals of StructureDefinitions a profile names with a version. */
function pinnedCanonicals(sd: StructureDefinition): string[] {
  const out = new Set<string>();
  if (sd.baseDefinition?.includes('|')) out.add(sd.baseDefinition);
  for (const e of [...(sd.differential?.element ?? []), ...(sd.snapshot?.element ?? [])]) {
    for (const t of e.type ?? []) for (const p of [...(t.profile ?? []), ...(t.targetProfile ?? [])]) if (p.includes('|')) out.add(p);
  }
  return [...out];
}

/**
 * The id a package resource is stored under: its own, unless another resource (another version
 * of it, or something else) holds it; then its id with its version.
 */
async function freeId(tx: Queryable, resource: Resource): Promise<string> {
  const id = resource.id as string;
  const current = await readCurrent(tx, resource.resourceType, id);
  if (!current?.content || current.deleted) return id;
  const held = JSON.parse(current.content) as { url?: string; version?: string };
  const mine = resource as { url?: string; version?: string };
  if (held.url === mine.url && held.version === mine.version) return id;
  return `${id}-${mine.version ?? 'x'}`.replace(/[^A-Za-z0-9\-.]/g, '-').slice(0, 64);
}

function sameContent(a: Resource, b: Resource): boolean {
  const strip = ({ meta, id: _id, ...rest }: Resource) => JSON.stringify({ ...rest, source: meta?.source, tag: meta?.tag });
  return strip(a) === strip(b);
}
