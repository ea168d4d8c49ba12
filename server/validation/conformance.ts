import type { Bundle, OperationOutcomeIssue, Resource, StructureDefinition } from '@medplum/fhirtypes';
import { FhirError } from '../fhir/outcome.js';
import { parseLocalReference } from '../fhir/ids.js';
import type { Database, Queryable } from '../store/db.js';
import { readCurrent } from '../store/resources.js';
import type { Registry } from './canonicals.js';
import { walkExtensions } from './extensions.js';
import { checkBundleReferences } from './bundle-references.js';
import { checkFrenchIdentifiers } from './french.js';
import { checkNarrativeLinks } from './narrative-links.js';
import { impliedProfiles } from './implied-profiles.js';
import { policyOf, type ConformancePolicy } from './policy.js';
import { walkProfile, type ProfileFindings } from './profile.js';
import { checkQuestionnaireResponse } from './questionnaire-response.js';
import { syncRegistry } from './registry-sync.js';
import { snapshotIssues, structureDefinition, withSnapshot } from './structures.js';

export interface ProfileRequest {
  /** Validate against these profiles only (the `profile` of $validate); else meta.profile and the policy's. */
  profiles?: string[];
  policy: ConformancePolicy;
  /**
   * $validate, as HL7's validator: an unknown extension is an error, not a warning (writes keep
   * what they cannot check), and a StructureDefinition's snapshot is generated to report what fails.
   */
  asReferenceValidator?: boolean;
}

/**
 * The profile-level issues of a resource (what validateBase does not see): its profiles
 * (meta.profile and those the policy requires; for $validate, those HL7's validator implies), its extensions by URL, French identifiers, a
 * QuestionnaireResponse against its Questionnaire, and,
 * when `store` is given, the profiles references' targets must conform to.
 */
export function checkProfiles(registry: Registry, resource: Resource, request: ProfileRequest): ProfileFindings {
  const findings: ProfileFindings = { issues: [], references: [], substitutions: [] };
  const profiles = request.profiles ?? [...(resource.meta?.profile ?? []), ...(request.policy.required[resource.resourceType] ?? [])];
  const implied = request.asReferenceValidator ? impliedProfiles(registry, resource) : [];
  for (const canonical of new Set([...profiles, ...implied])) {
    const sd = structureDefinition(registry, canonical, findings.substitutions);
    const required =
      request.profiles !== undefined || request.policy.requireKnownProfiles || request.policy.required[resource.resourceType]?.includes(canonical);
    if (!sd) {
      findings.issues.push({
        severity: required ? 'error' : 'warning',
        code: 'not-found',
        details: { text: `The profile ${canonical} is not known to this server${required ? '' : ': the resource is not checked against it'}` },
        expression: [resource.resourceType],
      });
      continue;
    }
    if (sd.type !== resource.resourceType) {
      findings.issues.push({
        severity: 'error',
        code: 'invalid',
        details: { text: `The profile ${canonical} is for ${sd.type}, not ${resource.resourceType}` },
        expression: [resource.resourceType],
      });
      continue;
    }
    walkProfile(registry, resource, sd, findings);
  }
  walkExtensions(registry, resource, findings, request.asReferenceValidator);
  if (request.asReferenceValidator && resource.resourceType === 'StructureDefinition')
    findings.issues.push(...snapshotFaults(registry, resource as StructureDefinition));
  if (request.asReferenceValidator) findings.issues.push(...checkNarrativeLinks(resource));
  if (request.asReferenceValidator && resource.resourceType === 'Bundle') findings.issues.push(...checkBundleReferences(resource as Bundle));
  findings.issues.push(...checkFrenchIdentifiers(resource));
  findings.issues.push(...checkQuestionnaireResponse(registry, resource));
  return findings;
}

/** What generating a differential-only StructureDefinition's snapshot fails on (as HL7's validator, which generates it to validate). */
function snapshotFaults(registry: Registry, sd: StructureDefinition): OperationOutcomeIssue[] {
  if (sd.snapshot?.element?.length || !sd.differential?.element?.length) return [];
  const fault = (text: string): OperationOutcomeIssue => ({ severity: 'error', code: 'processing', details: { text }, expression: ['StructureDefinition'] });
  const root = sd.differential.element[0];
  // HL7's validator reports this of the differential itself too, beside sdf-20 and the generator.
  const rootSliced: OperationOutcomeIssue[] =
    root?.slicing && !(root.path ?? '').includes('.')
      ? [
          {
            severity: 'error',
            code: 'invalid',
            details: { text: 'Slicing is not allowed at the root of a profile' },
            expression: ['StructureDefinition.differential.element[0]'],
          },
        ]
      : [];
  // One that cannot be generated at all (an unknown or circular base) is the profile's users' to find.
  try {
    return [...rootSliced, ...snapshotIssues(withSnapshot(registry, sd)).map((text) => fault(`Error generating the snapshot: ${text}`))];
  } catch {
    return rootSliced;
  }
}

/** Every issue of a profile check, references to stored resources followed, version substitutions told. */
export async function conformanceIssues(
  db: Database,
  q: Queryable,
  fhirBase: string,
  resource: Resource,
  request: ProfileRequest,
): Promise<OperationOutcomeIssue[]> {
  const registry = await syncRegistry(db, q);
  const findings = checkProfiles(registry, resource, request);
  for (const check of findings.references) await checkTarget(q, registry, fhirBase, check, findings);
  for (const s of new Map(findings.substitutions.map((x) => [x.canonical, x])).values()) {
    findings.issues.push({
      severity: 'warning',
      code: 'informational',
      details: { text: `${s.canonical} is not held: ${s.used} (the nearest version held) is used in its place` },
    });
  }
  return dedupe(findings.issues);
}

/** Checks a write against the policy in force; refuses it with 422 and every issue when it fails. */
export async function enforceConformance(db: Database, q: Queryable, fhirBase: string, resource: Resource): Promise<OperationOutcomeIssue[]> {
  const issues = await conformanceIssues(db, q, fhirBase, resource, { policy: policyOf(db) });
  if (issues.some((i) => i.severity === 'error' || i.severity === 'fatal')) {
    throw new FhirError(422, { resourceType: 'OperationOutcome', issue: issues });
  }
  return issues;
}

/** A stored reference target must conform to one of the target profiles; an absent one is not checked. */
async function checkTarget(
  q: Queryable,
  registry: Registry,
  fhirBase: string,
  check: ProfileFindings['references'][number],
  findings: ProfileFindings,
): Promise<void> {
  const ref = parseLocalReference(check.reference, fhirBase);
  if (!ref) return;
  const stored = await readCurrent(q, ref.type, ref.id);
  if (!stored?.content || stored.deleted) return;
  const target = JSON.parse(stored.content) as Resource;
  const candidates = check.targetProfiles.filter((p) => structureDefinition(registry, p)?.type === target.resourceType);
  if (!candidates.length) return;
  for (const profile of candidates) {
    const inner = checkProfiles(registry, target, { profiles: [profile], policy: { required: {}, requireKnownProfiles: false } });
    if (!inner.issues.some((i) => i.severity === 'error')) return;
  }
  findings.issues.push({
    severity: 'error',
    code: 'invalid',
    details: { text: `${check.reference} does not conform to ${candidates.join(' or ')}, which this reference requires` },
    expression: [check.path],
  });
}

function dedupe(issues: OperationOutcomeIssue[]): OperationOutcomeIssue[] {
  const seen = new Set<string>();
  return issues.filter((i) => {
    const key = `${i.severity}|${i.expression?.[0]}|${i.details?.text}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
