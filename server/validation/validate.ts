import { evalFhirPathTyped, OperationOutcomeError, toTypedValue, validateResource } from '@medplum/core';
import type { OperationOutcomeIssue, Resource } from '@medplum/fhirtypes';
import { FhirError } from '../fhir/outcome.js';
import { checkBindings } from './bindings.js';
import { checkBundleRules } from './bundle-rules.js';
import { checkDatatypeInvariants } from './invariants.js';
import { medplumFindsNothing } from './medplum-clean.js';
import { structureIssues } from './structure.js';

/**
 * Checks a resource against its base R4 StructureDefinition with @medplum/core's validator, our
 * check of required bindings, the invariants of its datatypes and the rules of Bundles, once its
 * JSON has the structure they can walk (structure.ts).
 * Returns the warnings; throws a 400 FhirError listing every issue when there is an error.
 */
export function validateBase(resource: Resource): OperationOutcomeIssue[] {
  const structural = structureIssues(resource);
  // A JSON fault stops here; the fault of a single value (an id, a dateTime) is listed with the rest.
  if (structural.some((i) => i.code === 'structure')) throw new FhirError(400, { resourceType: 'OperationOutcome', issue: structural });
  let issues: OperationOutcomeIssue[] = [];
  // Most resources are clean: a walk of their own properties tells so at a fraction of the validator's cost.
  if (!medplumFindsNothing(resource)) {
    try {
      issues = validateResource(resource);
    } catch (err) {
      if (!(err instanceof OperationOutcomeError)) throw err;
      issues = err.outcome.issue ?? [];
    }
  }
  issues = [
    ...structural,
    ...issues.filter((issue) => !isFalsePositive(resource, issue)),
    ...checkBindings(resource),
    ...checkDatatypeInvariants(resource),
    ...checkBundleRules(resource),
  ];
  if (issues.some((i) => i.severity === 'error' || i.severity === 'fatal')) {
    throw new FhirError(400, { resourceType: 'OperationOutcome', issue: issues });
  }
  return issues;
}

/**
 * Issues @medplum/core raises where FHIR R4 does not (found on the specification's own examples):
 * - an invariant whose expression evaluates to the empty collection is not violated (ras-2 on a
 *   RiskAssessment without probability); medplum requires a literal `true`;
 * - base64Binary may contain whitespace (the R4 regex is `(\s*([0-9a-zA-Z\+\/\=]){4}\s*)+`);
 * - the 1 MB limit applies to strings, not to the xhtml narrative.
 */
function isFalsePositive(resource: Resource, issue: OperationOutcomeIssue): boolean {
  const text = issue.details?.text ?? '';
  const path = issue.expression?.[0];
  if (!path) return false;
  if (text.startsWith('String cannot be larger than 1 MB')) return path.endsWith('.div');
  if (text === 'Invalid base64Binary format') {
    const value = valueAt(resource, path);
    return typeof value === 'string' && /^(\s*[0-9a-zA-Z+/=]{4}\s*)+$/.test(value);
  }
  if (issue.code === 'invariant' && issue.diagnostics) {
    try {
      const { fhirpath } = JSON.parse(issue.diagnostics) as { fhirpath?: string };
      const context = evalFhirPathTyped(path, [toTypedValue(resource)]);
      return !!fhirpath && context.length === 1 && evalFhirPathTyped(fhirpath, context).length === 0;
    } catch {
      return false;
    }
  }
  return false;
}

function valueAt(resource: Resource, path: string): unknown {
  try {
    return evalFhirPathTyped(path, [toTypedValue(resource)])[0]?.value;
  } catch {
    return undefined;
  }
}
