import { describe, expect, it } from 'vitest';
import { DATABASES, useServer } from '../../tests/harness.js';

const RPPS = 'https://rpps.esante.gouv.fr';
const batch = (...entry: unknown[]) => ({ resourceType: 'Bundle', type: 'batch', entry });
const practitioner = (rpps: string) => ({ resourceType: 'Practitioner', identifier: [{ system: RPPS, value: rpps }] });
const statuses = (res: { body: { entry: { response: { status: string } }[] } }) => res.body.entry.map((e) => e.response.status);

describe.each(DATABASES)('batch on %s', (kind) => {
  const t = useServer(kind);
  const count = async (query: string) => (await t.api.get(`${query}&_total=accurate&_count=0`)).body.total as number;

  it('runs each entry on its own: failures get their own status and outcome, the others are kept', async () => {
    const res = await t.api.post(
      '',
      batch(
        { resource: practitioner('10000000001'), request: { method: 'POST', url: 'Practitioner' } },
        { resource: { resourceType: 'Observation', code: { text: 'no status' } }, request: { method: 'POST', url: 'Observation' } },
        { request: { method: 'GET', url: 'Practitioner/does-not-exist' } },
        {
          resource: { resourceType: 'CarePlan', id: 'b-1', status: 'active', intent: 'plan', subject: { reference: 'Patient/p' } },
          request: { method: 'PUT', url: 'CarePlan/b-1' },
        },
        { request: { method: 'GET', url: `Practitioner?identifier=${RPPS}|10000000001` } },
      ),
    );
    expect(res.status).toBe(200);
    expect(res.body.type).toBe('batch-response');
    expect(statuses(res)).toEqual(['201 Created', '400 Bad Request', '404 Not Found', '201 Created', '200 OK']);
    expect(res.body.entry[1].response.outcome.issue[0].expression).toContain('Observation.status');
    expect(res.body.entry[2].response.outcome.resourceType).toBe('OperationOutcome');
    expect(res.body.entry[4].resource.total).toBe(1);
    expect((await t.api.get('CarePlan/b-1')).status).toBe(200);
  });

  it('a database error in one entry does not poison the others', async () => {
    // 3,000 letters of family name exceed PostgreSQL's limit for a btree entry of the string index:
    // a database error today. Whatever becomes of that entry, the entries after it must not suffer.
    const family = Array.from({ length: 3000 }, () => String.fromCharCode(97 + Math.floor(Math.random() * 26))).join('');
    const res = await t.api.post(
      '',
      batch(
        { resource: { resourceType: 'Patient', name: [{ family }] }, request: { method: 'POST', url: 'Patient' } },
        { resource: practitioner('10000000002'), request: { method: 'POST', url: 'Practitioner' } },
        { request: { method: 'GET', url: `Practitioner?identifier=${RPPS}|10000000002` } },
      ),
    );
    expect(res.status).toBe(200);
    expect(res.body.entry[0].response.status).toMatch(/^\d{3} /);
    if (!res.body.entry[0].response.status.startsWith('201')) expect(res.body.entry[0].response.outcome.resourceType).toBe('OperationOutcome');
    expect(statuses(res).slice(1)).toEqual(['201 Created', '200 OK']);
    expect(res.body.entry[2].resource.total).toBe(1);
  });

  it('conditional creates: posting the same batch twice creates each resource once', async () => {
    const body = batch(
      ...['10000000003', '10000000004'].map((rpps) => ({
        fullUrl: `urn:uuid:5e1c6f3a-0000-4000-8000-0${rpps}`,
        resource: practitioner(rpps),
        request: { method: 'POST', url: 'Practitioner', ifNoneExist: `identifier=${RPPS}|${rpps}` },
      })),
    );
    expect(statuses(await t.api.post('', body))).toEqual(['201 Created', '201 Created']);
    expect(statuses(await t.api.post('', body))).toEqual(['200 OK', '200 OK']);
    expect(await count(`Practitioner?identifier=${RPPS}|10000000003,10000000004`)).toBe(2);
  });

  it('resolves conditional references entry by entry, and answers as Prefer asks', async () => {
    await t.api.post('Practitioner', practitioner('10000000005'));
    const role = (rpps: string) => ({
      resource: { resourceType: 'PractitionerRole', practitioner: { reference: `Practitioner?identifier=${RPPS}|${rpps}` } },
      request: { method: 'POST', url: 'PractitionerRole' },
    });
    const res = await t.api.post('', batch(role('10000000005'), role('19999999999')), { prefer: 'return=minimal' });
    expect(statuses(res)).toEqual(['201 Created', '400 Bad Request']);
    expect(res.body.entry[0].resource).toBeUndefined();
    const id = res.body.entry[0].response.location.split('/').slice(-3)[0];
    expect((await t.api.get(`PractitionerRole/${id}`)).body.practitioner.reference).toMatch(/^Practitioner\/[\w-]+$/);
  });
});
