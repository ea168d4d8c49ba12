import type { CodeableConcept, Coding, Parameters, ParametersParameter, Resource } from '@medplum/fhirtypes';
import { badRequest } from '../fhir/outcome.js';
import type { FhirRequest } from '../interactions/context.js';

/**
 * The input parameters of an operation, from the query string (GET, or POST with a form) and a
 * Parameters body (POST). Primitive values come from either; complex ones (Coding, a resource)
 * from the body only, or as `system|code` in the query for a Coding.
 */
export interface OperationInput {
  string(name: string): string | undefined;
  integer(name: string): number | undefined;
  boolean(name: string): boolean | undefined;
  coding(name: string): Coding | undefined;
  codeableConcept(name: string): CodeableConcept | undefined;
  resource<T extends Resource>(name: string, type: T['resourceType']): T | undefined;
  /** Every value of a repeated primitive parameter. */
  strings(name: string): string[];
}

const PRIMITIVES = ['valueString', 'valueCode', 'valueUri', 'valueUrl', 'valueCanonical', 'valueId', 'valueDateTime', 'valueDate'] as const;

export function operationInput(req: FhirRequest): OperationInput {
  const query = new URLSearchParams(req.query);
  if (req.method === 'POST' && typeof req.body === 'string') for (const [k, v] of new URLSearchParams(req.body)) query.append(k, v);
  const body = bodyParameters(req);
  const params = (name: string) => body.filter((p) => p.name === name);
  const strings = (name: string): string[] => [
    ...params(name).flatMap((p) => {
      const v = PRIMITIVES.map((k) => p[k]).find((x) => x !== undefined) ?? p.valueInteger ?? p.valueBoolean;
      return v === undefined ? [] : [String(v)];
    }),
    ...query.getAll(name),
  ];
  const string = (name: string) => {
    const values = strings(name);
    if (values.length > 1) throw badRequest(`Parameter ${name} is given more than once`);
    return values[0];
  };
  return {
    string,
    strings,
    integer(name) {
      const v = string(name);
      if (v === undefined) return undefined;
      if (!/^\d+$/.test(v)) throw badRequest(`Parameter ${name} must be a non-negative integer: ${v}`);
      return Number(v);
    },
    boolean(name) {
      const v = string(name);
      if (v === undefined) return undefined;
      if (v !== 'true' && v !== 'false') throw badRequest(`Parameter ${name} must be true or false: ${v}`);
      return v === 'true';
    },
    coding(name) {
      const c = params(name)[0]?.valueCoding;
      if (c) return c;
      const v = query.get(name);
      if (v === null) return undefined;
      const bar = v.indexOf('|');
      return bar < 0 ? { code: v } : { system: v.slice(0, bar) || undefined, code: v.slice(bar + 1) };
    },
    codeableConcept: (name) => params(name)[0]?.valueCodeableConcept,
    resource<T extends Resource>(name: string, type: T['resourceType']) {
      const r = params(name)[0]?.resource;
      if (r && r.resourceType !== type) throw badRequest(`Parameter ${name} must be a ${type}, not a ${r.resourceType}`);
      return r as T | undefined;
    },
  };
}

function bodyParameters(req: FhirRequest): ParametersParameter[] {
  if (req.method !== 'POST' || req.body === undefined || typeof req.body === 'string') return [];
  const body = req.body as Parameters;
  if (typeof body !== 'object' || body === null || body.resourceType !== 'Parameters') {
    throw badRequest('The body of an operation must be a Parameters resource');
  }
  if (body.parameter !== undefined && !Array.isArray(body.parameter)) throw badRequest('Parameters.parameter must be an array');
  return (body.parameter ?? []).filter((p) => p && typeof p === 'object' && typeof p.name === 'string');
}

/** An output Parameters resource from name/value pairs; undefined values are left out. */
export function outputParameters(parameter: (ParametersParameter | undefined)[]): Parameters {
  return { resourceType: 'Parameters', parameter: parameter.filter((p): p is ParametersParameter => p !== undefined) };
}
