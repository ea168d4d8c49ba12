import type { Parameters, ParametersParameter } from '@medplum/fhirtypes';
import type { AccessRules } from '../access/rules.js';
import { NO_RULES } from '../access/rules.js';
import { structureWriter } from '../access/structure-writes.js';
import { restrictionsFor, unrestricted } from '../access/restrictions.js';
import { actorOf, type Actor } from '../audit/event.js';
import type { Access } from '../auth/tokens.js';
import { badRequest, fail } from '../fhir/outcome.js';
import { isResourceType } from '../validation/registry.js';
import { OUTPUT_FORMATS } from './export-request.js';

/**
 * One NDJSON input of an import: by URL, uploaded with the kick-off and kept as the job's file
 * `file`, or a local file of `maillage import` (`path`: its jobs are run by that command only).
 */
export interface ImportInput {
  type?: string;
  url?: string;
  file?: number;
  path?: string;
}

/** What an import job does, as kept with it. */
export interface ImportParams {
  inputs: ImportInput[];
  /** A job of `maillage import` (local files): never taken by a server's runner; `signature` finds it again to resume. */
  local?: { signature: string };
  testIdentities: boolean;
  maxJsonDepth?: number;
  actor?: Actor;
  address?: string;
}

const part = (p: ParametersParameter, name: string) => p.part?.find((x) => x.name === name);

/**
 * The inputs of a `$import` kick-off in HAPI FHIR's shape (Parameters: `inputFormat`
 * `application/fhir+ndjson`, `inputSource`, `storageDetail`, and `input` parts of `type` and
 * `url`), which Microsoft's server takes too. Only http(s) URLs are fetched.
 */
export function importInputs(body: unknown): ImportInput[] {
  const params = body as Parameters | undefined;
  if (params?.resourceType !== 'Parameters') throw badRequest('$import takes a Parameters resource (inputFormat, input{type, url}) or an NDJSON body');
  const format = params.parameter?.find((p) => p.name === 'inputFormat')?.valueCode ?? params.parameter?.find((p) => p.name === 'inputFormat')?.valueString;
  if (format !== undefined && !OUTPUT_FORMATS.has(format)) throw fail(400, 'not-supported', `inputFormat ${format} is not supported: application/fhir+ndjson`);
  const inputs = (params.parameter ?? [])
    .filter((p) => p.name === 'input')
    .map((p): ImportInput => {
      const type = part(p, 'type')?.valueCode ?? part(p, 'type')?.valueString;
      const url = part(p, 'url')?.valueUri ?? part(p, 'url')?.valueUrl ?? part(p, 'url')?.valueString;
      if (!url || !/^https?:\/\//.test(url)) throw badRequest(`Each input needs an http(s) url: ${url ?? '(none)'}`);
      if (type !== undefined && !isResourceType(type)) throw badRequest(`input type ${type} is not a resource type`);
      return { ...(type ? { type } : {}), url };
    });
  if (!inputs.length) throw badRequest('$import needs at least one input');
  return inputs;
}

/**
 * Importing writes any resource of any patient, with its id: for administrators and system
 * clients of the whole pôle holding create and update scopes on every type.
 */
export function checkImporter(access: Access | undefined, rules: AccessRules | undefined): Actor | undefined {
  if (!access) return undefined;
  const all = (['c', 'u'] as const).every((perm) => unrestricted(restrictionsFor(access, undefined, perm)));
  if (!all || structureWriter(access, rules ?? NO_RULES) !== 'all') {
    throw fail(403, 'forbidden', '$import is for administrators and system clients of the whole pôle with system/*.cu scopes');
  }
  return actorOf(access);
}
