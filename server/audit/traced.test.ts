import { describe, expect, it } from 'vitest';
import { patientsInJson } from './traced.js';

describe('the patients a response names', () => {
  it('are its Patient resources and the patients it references, wherever, and nothing a string only mentions', () => {
    const bundle = {
      resourceType: 'Bundle',
      entry: [
        { resource: { resourceType: 'Patient', id: 'helene', generalPractitioner: [{ reference: 'Practitioner/emilie' }] } },
        { resource: { resourceType: 'Observation', id: 'o1', subject: { reference: 'http://x/fhir/Patient/jerome' } } },
        { resource: { resourceType: 'CarePlan', id: 'c1', extension: [{ valueReference: { reference: 'Patient/ines/_history/2' } }] } },
        { resource: { resourceType: 'Observation', id: 'o2', note: [{ text: '"reference":"Patient/evil" and {"resourceType":"Patient","id":"evil2"}' }] } },
        { resource: { resourceType: 'Observation', id: 'o3', subject: { reference: 'http://elsewhere/fhir/Patient/other' } } },
      ],
    };
    const found = new Set<string>();
    patientsInJson(JSON.stringify(bundle), 'http://x/fhir', found);
    expect([...found].sort()).toEqual(['helene', 'ines', 'jerome']);
  });
});
