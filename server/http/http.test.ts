import { describe, expect, it } from 'vitest';
import { useServer } from '../../tests/harness.js';

// Transport behaviour does not depend on the database: PGlite is enough here.
describe('HTTP layer', () => {
  const t = useServer('pglite', { maxBodySize: '20kb' });
  const url = (path: string) => `${t.server.base}/${path}`;

  it('serves FHIR JSON by default, application/json when asked, and honours _format', async () => {
    expect((await fetch(url('metadata'))).headers.get('content-type')).toBe('application/fhir+json; charset=utf-8');
    const json = await fetch(url('metadata'), { headers: { accept: 'application/json' } });
    expect(json.headers.get('content-type')).toBe('application/json; charset=utf-8');
    const browser = await fetch(url('metadata'), { headers: { accept: 'text/html,application/xhtml+xml,*/*;q=0.8' } });
    expect(browser.status).toBe(200);
    expect((await fetch(url('metadata?_format=json'), { headers: { accept: 'application/fhir+xml' } })).status).toBe(200);
    expect((await fetch(url('metadata?_format=application/fhir+json'))).status).toBe(200);
  });

  it('answers 406 with an OperationOutcome for formats it cannot serve', async () => {
    for (const res of [
      await fetch(url('metadata'), { headers: { accept: 'application/fhir+xml' } }),
      await fetch(url('metadata?_format=xml')),
      await fetch(url('metadata?_format=text/turtle')),
    ]) {
      expect(res.status).toBe(406);
      expect(((await res.json()) as Record<string, string>).resourceType).toBe('OperationOutcome');
    }
  });

  it('answers 415 for bodies it cannot read, 400 for bad JSON, 413 above the size limit', async () => {
    const post = (body: string, type?: string) => fetch(url('Patient'), { method: 'POST', body, headers: type ? { 'content-type': type } : {} });
    const xml = await post('<Patient xmlns="http://hl7.org/fhir"/>', 'application/fhir+xml');
    expect(xml.status).toBe(415);
    expect(((await xml.json()) as Record<string, string>).resourceType).toBe('OperationOutcome');
    expect((await post('{"resourceType":"Patient"}', 'text/plain')).status).toBe(415);
    expect((await post('{"resourceType":"Patient"}', 'application/json')).status).toBe(201);
    expect((await post('{"resourceType":"Patient"}', 'application/fhir+json; charset=utf-8; fhirVersion=4.0')).status).toBe(201);
    expect((await post('{"resourceType":"Patient"', 'application/fhir+json')).status).toBe(400);
    const big = JSON.stringify({ resourceType: 'Patient', name: [{ text: 'x'.repeat(30_000) }] });
    const tooLarge = await post(big, 'application/fhir+json');
    expect(tooLarge.status).toBe(413);
    expect(((await tooLarge.json()) as Record<string, string>).resourceType).toBe('OperationOutcome');
  });

  it('indents with _pretty=true', async () => {
    const text = await (await fetch(url('metadata?_pretty=true'))).text();
    expect(text).toContain('\n  "resourceType"');
  });

  it('gives every response a request id, the client one when sent', async () => {
    expect((await fetch(url('metadata'))).headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    expect((await fetch(url('metadata'), { headers: { 'x-request-id': 'vendor-42' } })).headers.get('x-request-id')).toBe('vendor-42');
  });

  it('answers unknown paths, methods and malformed URLs with OperationOutcomes, never a 500', async () => {
    const cases: [string, RequestInit, number][] = [
      ['nothing-here', {}, 404],
      ['Patient/1/_history/1/extra', {}, 404],
      ['Patient/1/_history/1', { method: 'DELETE' }, 405],
      ['Patient/%E0%A4%A', {}, 400],
      ['Patient?_count=abc', {}, 400],
      ['Patient', { method: 'PROPFIND' }, 405],
      ['Patient', { method: 'FOO' }, 400], // refused by Node's HTTP parser
    ];
    for (const [path, init, status] of cases) {
      const res = await fetch(url(path), init);
      expect(res.status, path).toBe(status);
      expect(((await res.json()) as Record<string, string>).resourceType, path).toBe('OperationOutcome');
    }
    const outside = await fetch(`${t.server.url}/elsewhere`);
    expect(outside.status).toBe(404);
    expect(((await outside.json()) as Record<string, string>).resourceType).toBe('OperationOutcome');
  });

  it('reports liveness and readiness', async () => {
    expect((await fetch(`${t.server.url}/healthz`)).status).toBe(200);
    const ready = await fetch(`${t.server.url}/readyz`);
    expect(ready.status).toBe(200);
    expect(((await ready.json()) as Record<string, string>).status).toBe('ready');
  });
});
