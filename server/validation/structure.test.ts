import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { DATABASES, useServer } from '../../tests/harness.js';

const observation = (code: Record<string, unknown>, more: Record<string, unknown> = {}) => ({ resourceType: 'Observation', status: 'final', code, ...more });

/**
 * Bodies that break R4's JSON representation (json.html, datatypes.html), each with the FHIRPath
 * of its first fault; none may reach anything that walks a resource (they were 500s or were stored).
 */
const HOSTILE: [string, string, string][] = [
  [
    'an array for a string',
    JSON.stringify(observation({ coding: [{ system: 'http://loinc.org', code: '1', display: [] }] })),
    'Observation.code.coding[0].display',
  ],
  ['an array for text', JSON.stringify(observation({ text: [] })), 'Observation.code.text'],
  ['an array for a reference', JSON.stringify(observation({ text: 'x' }, { subject: { reference: [] } })), 'Observation.subject.reference'],
  ['an object for a reference', JSON.stringify(observation({ text: 'x' }, { subject: { reference: {} } })), 'Observation.subject.reference'],
  ['an array for family', JSON.stringify({ resourceType: 'Patient', name: [{ family: [] }] }), 'Patient.name[0].family'],
  ['an array in given', JSON.stringify({ resourceType: 'Patient', name: [{ given: [[]] }] }), 'Patient.name[0].given[0]'],
  ['a NUL in a code', JSON.stringify(observation({ coding: [{ system: 'http://loinc.org', code: 'a\u0000b' }] })), 'Observation.code.coding[0].code'],
  [
    'a control character in the narrative',
    JSON.stringify({ resourceType: 'Patient', text: { status: 'generated', div: '<div xmlns="http://www.w3.org/1999/xhtml">a\u0007</div>' } }),
    'Patient.text.div',
  ],
  ['a lone surrogate', '{"resourceType":"Patient","name":[{"family":"\\ud800x"}]}', 'Patient.name[0].family'],
  ['a number for an Address', JSON.stringify({ resourceType: 'Patient', address: [7] }), 'Patient.address[0]'],
  ['a number for a Coding', JSON.stringify(observation({ coding: [5] })), 'Observation.code.coding[0]'],
  ['a string for a boolean', JSON.stringify({ resourceType: 'Patient', active: 'true' }), 'Patient.active'],
  ['a string for an integer', JSON.stringify({ resourceType: 'Patient', multipleBirthInteger: '2' }), 'Patient.multipleBirthInteger'],
  [
    'a number too large for a double',
    '{"resourceType":"Observation","status":"final","code":{"text":"x"},"valueQuantity":{"value":1e400}}',
    'Observation.valueQuantity.value',
  ],
  ['an object where the element does not repeat', JSON.stringify({ resourceType: 'Patient', gender: ['male'] }), 'Patient.gender'],
  ['an object where the element repeats', JSON.stringify({ resourceType: 'Patient', name: { family: 'x' } }), 'Patient.name'],
  ['an empty string', JSON.stringify({ resourceType: 'Patient', gender: '' }), 'Patient.gender'],
  ['an empty array', JSON.stringify({ resourceType: 'Patient', name: [] }), 'Patient.name'],
  ['an empty object', JSON.stringify({ resourceType: 'Patient', name: [{}] }), 'Patient.name[0]'],
  ['a null', JSON.stringify({ resourceType: 'Patient', gender: null }), 'Patient.gender'],
  ['a null in a primitive array without extensions', JSON.stringify({ resourceType: 'Patient', name: [{ given: ['a', null] }] }), 'Patient.name[0].given[1]'],
  ['_given of another length', JSON.stringify({ resourceType: 'Patient', name: [{ given: ['a'], _given: [null, { id: 'x' }] }] }), 'Patient.name[0].given'],
  ['_name on a complex element', JSON.stringify({ resourceType: 'Patient', _name: [{ id: 'x' }] }), 'Patient._name'],
  ['__proto__', '{"resourceType":"Patient","__proto__":{"active":true}}', 'Patient.__proto__'],
  ['constructor', '{"resourceType":"Patient","name":[{"constructor":{"prototype":{"x":1}}}]}', 'Patient.name[0].constructor'],
  ['an unknown element', JSON.stringify({ resourceType: 'Patient', colour: 'blue' }), 'Patient.colour'],
  ['an unknown choice', JSON.stringify({ resourceType: 'Patient', deceasedString: 'yes' }), 'Patient.deceasedString'],
  [
    'an unknown contained resource',
    JSON.stringify({ resourceType: 'Patient', contained: [{ resourceType: 'Nothing', id: 'x' }] }),
    'Patient.contained[0].resourceType',
  ],
  [
    'a contained resource at fault',
    JSON.stringify({ resourceType: 'Patient', contained: [{ resourceType: 'Practitioner', id: 'x', active: 1 }] }),
    'Patient.contained[0].active',
  ],
];

/** `{"resourceType":"Patient","extension":[{"url":…,"extension":[…]}]}`, `levels` extensions deep: 2 levels of JSON each. */
function nestedExtensions(levels: number): string {
  let inner = '{"url":"http://example.org/x","valueString":"leaf"}';
  for (let i = 1; i < levels; i++) inner = `{"url":"http://example.org/x","extension":[${inner}]}`;
  return `{"resourceType":"Patient","extension":[${inner}]}`;
}

describe.each(DATABASES)('the structure of FHIR JSON bodies on %s', (kind) => {
  const t = useServer(kind);
  const post = (path: string, body: string, contentType = 'application/fhir+json') => t.api.call('POST', path, body, { 'content-type': contentType });

  it.each(HOSTILE)('refuses %s with a 400 naming it, on create', async (_what, body, expression) => {
    const res = await post(JSON.parse(body).resourceType ?? 'Patient', body);
    expect(res.status).toBe(400);
    expect(res.body.resourceType).toBe('OperationOutcome');
    expect(res.body.issue[0].code).toBe('structure');
    expect(res.body.issue[0].expression).toEqual([expression]);
  });

  it('refuses them on update, conditional create and update, as a batch or transaction entry; $validate reports them', async () => {
    for (const [what, body, expression] of HOSTILE) {
      const type = JSON.parse(body).resourceType ?? 'Patient';
      const withId = body.replace(`"resourceType":"${type}"`, `"resourceType":"${type}","id":"hostile"`);
      expect((await t.api.call('PUT', `${type}/hostile`, withId)).status, `update: ${what}`).toBe(400);
      expect((await t.api.call('PUT', `${type}?_id=hostile`, withId)).status, `conditional update: ${what}`).toBe(400);
      expect((await t.api.call('POST', type, body, { 'if-none-exist': '_id=hostile' })).status, `conditional create: ${what}`).toBe(400);
      // $validate answers 200 with the faults among its issues (resource-operation-validate), but
      // for the keys no parse of ours keeps (fhir/json.ts), refused with a 400 naming them.
      const validated = await t.api.call('POST', `${type}/$validate`, body);
      const unparsed = /"(__proto__|constructor|prototype)"/.test(body);
      expect(validated.status, `$validate: ${what}`).toBe(unparsed ? 400 : 200);
      expect(validated.body.issue.find((i: { severity: string }) => i.severity === 'error')?.expression, `$validate: ${what}`).toEqual([expression]);
      for (const bundleType of ['batch', 'transaction']) {
        const bundle = `{"resourceType":"Bundle","type":"${bundleType}","entry":[{"request":{"method":"POST","url":"${type}"},"resource":${body}}]}`;
        const res = await post('', bundle);
        expect(res.status, `${bundleType}: ${what}`).toBe(400);
        expect(res.body.issue[0].expression).toEqual([`Bundle.entry[0].resource${expression.slice(type.length)}`]);
      }
      const parameters = `{"resourceType":"Parameters","parameter":[{"name":"resource","resource":${body}}]}`;
      expect((await post(`${type}/$validate`, parameters)).status, `$validate with Parameters: ${what}`).toBe(unparsed ? 400 : 200);
    }
    expect((await t.api.get('Patient?_count=100')).body.entry ?? []).toEqual([]);
  });

  it('refuses the faults in the Parameters of an operation and in the Bundle itself', async () => {
    const expand = await post('ValueSet/$expand', JSON.stringify({ resourceType: 'Parameters', parameter: [{ name: 'url', valueUri: ['x'] }] }));
    expect(expand.status).toBe(400);
    expect(expand.body.issue[0].expression).toEqual(['Parameters.parameter[0].valueUri']);
    const bundle = await post(
      '',
      JSON.stringify({ resourceType: 'Bundle', type: 'batch', entry: [{ request: { method: 'GET', url: 'Patient' }, fullUrl: '' }] }),
    );
    expect(bundle.status).toBe(400);
    expect(bundle.body.issue[0].expression).toEqual(['Bundle.entry[0].fullUrl']);
    const notResource = await post('Patient', '[{"resourceType":"Patient"}]');
    expect(notResource.status).toBe(400);
  });

  it('refuses a NUL (%00) in a query, a form, If-None-Exist or a conditional reference with a 400 (PostgreSQL text cannot hold one)', async () => {
    for (const path of ['Patient?name=a%00b', 'Patient?identifier=%00|x', 'ValueSet/$expand?url=a%00', 'CodeSystem/$lookup?system=a%00&code=x']) {
      const res = await t.api.get(path);
      expect(res.status, path).toBe(400);
      expect(res.body.resourceType).toBe('OperationOutcome');
    }
    expect((await post('Patient/_search', 'name=a%00', 'application/x-www-form-urlencoded')).status).toBe(400);
    expect((await t.api.call('POST', 'Patient', { resourceType: 'Patient' }, { 'if-none-exist': 'name=%00' })).status).toBe(400);
    const reference = { resourceType: 'Observation', status: 'final', code: { text: 'x' }, subject: { reference: 'Patient?name=a%00' } };
    const bundle = await t.api.post('', {
      resourceType: 'Bundle',
      type: 'transaction',
      entry: [{ resource: reference, request: { method: 'POST', url: 'Observation' } }],
    });
    expect(bundle.status).toBe(400);
  });

  it('refuses a PATCH whose result breaks the structure with a 422, and leaves the resource as it was', async () => {
    await t.api.put('Patient/patched', { resourceType: 'Patient', id: 'patched', name: [{ family: 'Durand' }] });
    for (const op of [
      { op: 'replace', path: '/name/0/family', value: [] },
      { op: 'add', path: '/name/0/given', value: [''] },
      { op: 'add', path: '/address', value: [7] },
      { op: 'add', path: '/gender', value: 'a\u0000' },
    ]) {
      const res = await t.api.patch('Patient/patched', [op]);
      expect(res.status, JSON.stringify(op)).toBe(422);
      expect(res.body.issue[0].code).toBe('structure');
    }
    const proto = await t.api.call('PATCH', 'Patient/patched', '[{"op":"add","path":"/extension","value":[{"__proto__":{"url":"x"}}]}]', {
      'content-type': 'application/json-patch+json',
    });
    expect(proto.status).toBe(400);
    expect((await t.api.get('Patient/patched')).body.meta.versionId).toBe('1');
  });

  it('bounds the nesting of a body (MAX_JSON_DEPTH), a JSON Patch in a Bundle included, without a stack overflow', async () => {
    expect((await post('Patient', nestedExtensions(40))).status).toBe(201);
    for (const body of [nestedExtensions(3000), `{"resourceType":"Patient","extension":${'['.repeat(100_000)}${']'.repeat(100_000)}}`]) {
      const res = await post('Patient', body);
      expect(res.status).toBe(400);
      expect(res.body.issue[0].diagnostics).toMatch(/more than 100 deep/);
    }
    const deepPatch = await t.api.call('PATCH', 'Patient/patched', `[{"op":"add","path":"/x","value":${'['.repeat(100_000)}${']'.repeat(100_000)}}]`, {
      'content-type': 'application/json-patch+json',
    });
    expect(deepPatch.status).toBe(400);
    const binary = Buffer.from(`[{"op":"add","path":"/x","value":${'['.repeat(50_000)}${']'.repeat(50_000)}}]`).toString('base64');
    const entry = {
      request: { method: 'PATCH', url: 'Patient/patched' },
      resource: { resourceType: 'Binary', contentType: 'application/json-patch+json', data: binary },
    };
    const batch = await post('', JSON.stringify({ resourceType: 'Bundle', type: 'batch', entry: [entry] }));
    expect(batch.status).toBe(200);
    expect(batch.body.entry[0].response.status).toMatch(/^400/);
    expect(batch.body.entry[0].response.outcome.issue[0].diagnostics).toMatch(/more than 100 deep/);
  });

  it('keeps what R4 JSON allows: nulls paired with extensions, extensions alone, unicode, tabs and new lines', async () => {
    const patient = {
      resourceType: 'Patient',
      name: [{ family: 'Lê\tNguyễn 😀\r\nx', given: ['Anne', null], _given: [null, { extension: [{ url: 'http://example.org/x', valueString: 'Marie' }] }] }],
      _birthDate: { extension: [{ url: 'http://hl7.org/fhir/StructureDefinition/data-absent-reason', valueCode: 'unknown' }] },
      multipleBirthInteger: 2,
      contained: [{ resourceType: 'Practitioner', id: 'pr', active: true }],
      generalPractitioner: [{ reference: '#pr' }],
    };
    const res = await t.api.post('Patient', patient);
    expect(res.status).toBe(201);
    const { id: _id, meta: _meta, ...stored } = (await t.api.get(`Patient/${res.body.id}`)).body;
    expect(stored).toEqual(patient);
  });
});

describe('maillage validate', () => {
  it('reports the structural faults of a file, bounded as a request body, and exits 1', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'maillage-structure-'));
    const run = async (content: string) => {
      const file = join(dir, 'r.json');
      writeFileSync(file, content);
      try {
        const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', 'cli/maillage.ts', 'validate', file]);
        return { code: 0, outcome: JSON.parse(stdout) };
      } catch (err) {
        const e = err as { code: number; stdout: string };
        return { code: e.code, outcome: JSON.parse(e.stdout) };
      }
    };
    const bundle = await run(`{"resourceType":"Bundle","type":"collection","entry":[{"resource":{"resourceType":"Patient","name":[{"family":[]}]}}]}`);
    expect(bundle.code).toBe(1);
    expect(bundle.outcome.issue.map((i: { expression: string[] }) => i.expression)).toEqual([['Bundle.entry[0].resource.name[0].family']]);
    const deep = await run(nestedExtensions(3000));
    expect(deep.code).toBe(1);
    expect(deep.outcome.issue[0].diagnostics).toMatch(/more than 100 deep/);
  }, 60_000);
});
