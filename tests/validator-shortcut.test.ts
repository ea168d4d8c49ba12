import { readdirSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { OperationOutcomeError, validateResource } from '@medplum/core';
import type { Resource } from '@medplum/fhirtypes';
import { beforeAll, describe, expect, it } from 'vitest';
import { medplumFindsNothing } from '../server/validation/medplum-clean.js';
import { loadBaseDefinitions } from '../server/validation/registry.js';
import { structureIssues } from '../server/validation/structure.js';
import { Fuzzer } from './fuzz-requests.js';

/**
 * The validator's shortcut (server/validation/medplum-clean.ts) may only skip @medplum/core's
 * validator where the validator would find nothing: over the R4 examples of modest size and
 * thousands of resources the fuzzer damages (wrong types, empty values, odd keys, unicode), never
 * once does the shortcut vouch for a resource the validator has something to say of. In process,
 * no server: a few seconds.
 */
const require = createRequire(import.meta.url);
const EXAMPLES_DIR = dirname(require.resolve('hl7.fhir.r4.examples/package.json'));
const MUTATED = 4000;

/** What @medplum/core's validator reports of a resource. */
function validatorIssues(resource: Resource): unknown[] {
  try {
    return validateResource(resource);
  } catch (err) {
    if (!(err instanceof OperationOutcomeError)) return [String(err)];
    return err.outcome.issue ?? [];
  }
}

describe('the validator’s shortcut', () => {
  const examples: Record<string, unknown>[] = [];
  beforeAll(() => {
    loadBaseDefinitions();
    for (const file of readdirSync(EXAMPLES_DIR).sort()) {
      if (!file.endsWith('.json') || file === 'package.json' || statSync(`${EXAMPLES_DIR}/${file}`).size > 8_000) continue;
      examples.push(JSON.parse(readFileSync(`${EXAMPLES_DIR}/${file}`, 'utf8')));
    }
  });

  it('vouches only for resources the validator finds nothing in, examples and damaged ones alike', () => {
    const fuzzer = new Fuzzer(20_261_207, examples);
    const candidates = [...examples] as unknown as Resource[];
    while (candidates.length < examples.length + MUTATED) {
      const { body } = fuzzer.next();
      if (typeof body !== 'string') continue;
      let parsed: unknown;
      try {
        parsed = JSON.parse(body);
      } catch {
        continue;
      }
      if (parsed && typeof parsed === 'object' && typeof (parsed as Resource).resourceType === 'string') candidates.push(parsed as Resource);
    }
    let vouched = 0;
    const wrong: string[] = [];
    for (const resource of candidates) {
      // As validateBase: a resource whose JSON breaks R4's representation stops before either.
      if (structureIssues(resource).some((i) => i.code === 'structure')) continue;
      if (!medplumFindsNothing(resource)) continue;
      vouched++;
      const issues = validatorIssues(resource);
      if (issues.length) wrong.push(`${JSON.stringify(resource).slice(0, 200)}: ${JSON.stringify(issues).slice(0, 200)}`);
    }
    expect(wrong).toEqual([]);
    // Not a vacuous pass: most examples are clean, and the shortcut says so.
    expect(vouched).toBeGreaterThan(examples.length / 2);
  });
});
