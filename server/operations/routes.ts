import { notFound } from '../fhir/outcome.js';
import type { Context, FhirRequest, FhirResponse } from '../interactions/context.js';
import type { Route } from '../route.js';
import { expandOperation } from './expand.js';
import { lookupOperation } from './lookup.js';
import { subsumesOperation } from './subsumes.js';
import { validateCodeInSystemOperation, validateCodeInValueSetOperation } from './validate-code.js';

type Handler = (ctx: Context, req: FhirRequest, id?: string) => Promise<FhirResponse>;

/** The terminology operations, by name and by the resource type they are defined on. */
const OPERATIONS: Record<string, Partial<Record<'ValueSet' | 'CodeSystem', Handler>>> = {
  $expand: { ValueSet: expandOperation },
  '$validate-code': { ValueSet: validateCodeInValueSetOperation, CodeSystem: validateCodeInSystemOperation },
  $lookup: { CodeSystem: lookupOperation },
  $subsumes: { CodeSystem: subsumesOperation },
};

function handler(name: string, type: string): Handler {
  const handle = OPERATIONS[name][type as 'ValueSet' | 'CodeSystem'];
  if (!handle) throw notFound(`${name} is not defined on ${type}`);
  return handle;
}

/**
 * Each operation at type level ([type]/$op) and instance level ([type]/[id]/$op), by GET or
 * POST (Parameters). Reading terminology needs the read permission on the type.
 */
export const TERMINOLOGY_ROUTES: Route[] = Object.keys(OPERATIONS).flatMap((name) =>
  (['GET', 'POST'] as const).flatMap((method): Route[] => [
    { method, pattern: [':type', name], types: Object.keys(OPERATIONS[name]), permission: 'r', handle: (ctx, req, p) => handler(name, p.type)(ctx, req) },
    {
      method,
      pattern: [':type', ':id', name],
      types: Object.keys(OPERATIONS[name]),
      permission: 'r',
      handle: (ctx, req, p) => handler(name, p.type)(ctx, req, p.id),
    },
  ]),
);
