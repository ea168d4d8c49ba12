import type { OperationOutcome, OperationOutcomeIssue } from '@medplum/fhirtypes';

export type IssueCode = OperationOutcomeIssue['code'];

/** An error that ends a FHIR interaction with an HTTP status and an OperationOutcome. */
export class FhirError extends Error {
  constructor(
    readonly status: number,
    readonly outcome: OperationOutcome,
  ) {
    super(outcome.issue?.[0]?.diagnostics ?? 'FHIR error');
  }
}

export function outcome(severity: OperationOutcomeIssue['severity'], code: IssueCode, diagnostics: string, expression?: string[]): OperationOutcome {
  return { resourceType: 'OperationOutcome', issue: [{ severity, code, diagnostics, ...(expression ? { expression } : {}) }] };
}

export function fail(status: number, code: IssueCode, diagnostics: string, expression?: string[]): FhirError {
  return new FhirError(status, outcome('error', code, diagnostics, expression));
}

export const badRequest = (msg: string, expression?: string[]) => fail(400, 'invalid', msg, expression);
export const notFound = (msg: string) => fail(404, 'not-found', msg);
export const gone = (msg: string) => fail(410, 'deleted', msg);
export const conflict = (msg: string) => fail(409, 'conflict', msg);
export const preconditionFailed = (msg: string) => fail(412, 'conflict', msg);
export const unprocessable = (msg: string, expression?: string[]) => fail(422, 'processing', msg, expression);
export const notSupported = (status: number, msg: string) => fail(status, 'not-supported', msg);
