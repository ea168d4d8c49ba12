import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { evalFhirPathTyped, toTypedValue, type TypedValue } from '@medplum/core';
import type { Bundle, Resource } from '@medplum/fhirtypes';
import { describe, expect, it } from 'vitest';
import { searchParamsOf } from './parameters.js';
import { compileSimplePath } from './simple-path.js';

const require = createRequire(import.meta.url);
const EXAMPLES = dirname(require.resolve('hl7.fhir.r4.examples/package.json'));

/** Every resource of the R4 examples, those inside Bundles included. */
function examples(): Resource[] {
  const out: Resource[] = [];
  const add = (r: Resource | undefined) => {
    if (!r?.resourceType) return;
    out.push(r);
    if (r.resourceType === 'Bundle') for (const e of (r as Bundle).entry ?? []) add(e.resource);
  };
  for (const f of readdirSync(EXAMPLES)) if (f.endsWith('.json') && f !== 'package.json') add(JSON.parse(readFileSync(join(EXAMPLES, f), 'utf8')) as Resource);
  return out;
}

const asSet = (values: TypedValue[]) => [...new Set(values.map((v) => `${v.type} ${JSON.stringify(v.value)}`))].sort();

describe('simple paths', () => {
  it('compile only what they can walk', () => {
    expect(compileSimplePath('Patient.name')).toBeDefined();
    expect(compileSimplePath('Observation.subject.where(resolve() is Patient) | Observation.focus')).toBeDefined();
    expect(compileSimplePath('Observation.value.as(Quantity)')).toBeDefined();
    expect(compileSimplePath('(Observation.value as Quantity) | (Observation.component.value as Quantity)')).toBeDefined();
    expect(compileSimplePath("Patient.telecom.where(system='phone')")).toBeUndefined();
    expect(compileSimplePath('(Observation.value as CodeableConcept).text')).toBeUndefined();
  });

  it('give the values the FHIRPath engine gives, for every parameter on every R4 example', () => {
    let compared = 0;
    const differences: string[] = [];
    for (const resource of examples()) {
      const input = toTypedValue(resource);
      for (const sp of searchParamsOf(resource.resourceType).values()) {
        if (!sp.path || !sp.atom) continue;
        let expected: TypedValue[];
        try {
          expected = evalFhirPathTyped(sp.atom, [input]);
        } catch {
          expected = []; // extraction indexes nothing for an expression the engine cannot apply
        }
        compared++;
        if (JSON.stringify(asSet(sp.path(input))) !== JSON.stringify(asSet(expected))) differences.push(`${resource.resourceType}/${resource.id} ${sp.code}`);
      }
    }
    expect(differences).toEqual([]);
    expect(compared).toBeGreaterThan(50_000);
  });
});
