import { describe, expect, it } from 'vitest';
import { DATABASES, useServer } from '../../tests/harness.js';

const carePlan = { resourceType: 'CarePlan', status: 'active', intent: 'plan', subject: { reference: 'Patient/p1' } };
const clinical = 'http://terminology.hl7.org/CodeSystem/condition-clinical';
const condition = (clinicalStatus: unknown) => ({ resourceType: 'Condition', subject: { reference: 'Patient/p1' }, clinicalStatus });

describe.each(DATABASES)('required bindings on %s', (kind) => {
  const t = useServer(kind);

  /** The FHIRPath expressions of the binding errors in the answer to a create. */
  const refusals = async (resource: unknown) => {
    const res = await t.api.post((resource as { resourceType: string }).resourceType, resource);
    expect(res.status).toBe(400);
    expect(res.body.resourceType).toBe('OperationOutcome');
    return res.body.issue.filter((i: { code: string }) => i.code === 'code-invalid').map((i: { expression: string[] }) => i.expression[0]);
  };

  it('refuses codes outside the value set, in backbone elements and nested items too, with their path', async () => {
    expect(await refusals({ ...carePlan, status: 'bogus' })).toEqual(['CarePlan.status']);
    // The message says what is wrong (issue 27: it said the opposite).
    const femme = await t.api.post('Patient', { resourceType: 'Patient', gender: 'femme' });
    expect(femme.body.issue[0].details.text).toBe("The code 'femme' is not in the required value set http://hl7.org/fhir/ValueSet/administrative-gender");
    const activity = [{ detail: { status: 'completed' } }, { detail: { status: 'finished' } }];
    expect(await refusals({ ...carePlan, activity })).toEqual(['CarePlan.activity[1].detail.status']);
    const item = [{ linkId: '1', type: 'group', item: [{ linkId: '1.1', type: 'free-text' }] }];
    expect(await refusals({ resourceType: 'Questionnaire', status: 'draft', item })).toEqual(['Questionnaire.item[0].item[0].type']);
  });

  it('checks the bindings of datatypes, extensions and contained resources', async () => {
    const patient = {
      resourceType: 'Patient',
      telecom: [
        { system: 'phone', value: '0102030405' },
        { system: 'fax2', value: '0102030406' },
      ],
      extension: [{ url: 'http://example.org/backup-contact', valueContactPoint: { system: 'pigeon', value: 'x' } }],
      contained: [{ resourceType: 'Practitioner', id: 'gp', gender: 'F' }],
    };
    expect((await refusals(patient)).sort()).toEqual([
      'Patient.contained[0].gender',
      'Patient.extension[0].valueContactPoint.system',
      'Patient.telecom[1].system',
    ]);
  });

  it('needs one coding of a required CodeableConcept in the value set; the others may be translations', async () => {
    expect(await refusals(condition({ coding: [{ system: clinical, code: 'cured' }] }))).toEqual(['Condition.clinicalStatus']);
    expect(await refusals(condition({ coding: [{ code: 'active' }] }))).toEqual(['Condition.clinicalStatus']);
    const translated = condition({
      coding: [
        { system: 'http://example.org/local', code: 'A' },
        { system: clinical, code: 'active' },
      ],
    });
    expect((await t.api.post('Condition', translated)).status).toBe(201);
  });

  it('stores a resource whose codes conform, and leaves value sets it cannot expand unchecked', async () => {
    const res = await t.api.post('CarePlan', {
      ...carePlan,
      activity: [{ detail: { status: 'in-progress' } }],
      // mimetypes (urn:ietf:bcp:13) is not shipped with the R4 definitions.
      contained: [{ resourceType: 'Binary', id: 'b', contentType: 'application/x-maillage' }],
    });
    expect(res.status).toBe(201);
  });

  it('answers 400, never 500, to codes of the wrong JSON shape and to unknown contained types', async () => {
    expect((await t.api.post('CarePlan', { ...carePlan, status: { code: 'active' } })).status).toBe(400);
    expect((await t.api.post('CarePlan', { ...carePlan, contained: [{ resourceType: 'constructor', status: 'x' }] })).status).toBe(400);
  });
});
