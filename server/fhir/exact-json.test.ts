import { describe, expect, it } from 'vitest';
import { DATABASES, useServer } from '../../tests/harness.js';
import { parseExact, stringifyExact } from './exact-json.js';

describe('exact decimals in memory', () => {
  it('keeps the text of decimals through parse, spreads and stringify, and writes a changed one as its number', () => {
    const text = '{"a":{"value":1.50},"b":[1.0,2,42.256500,1e2,12345678901234567890],"c":"1.0","d":0.1}';
    const value = parseExact(text) as { a: { value: number }; b: number[] };
    expect(value.a.value).toBe(1.5);
    expect(stringifyExact(value)).toBe(text);
    expect(stringifyExact({ ...value, e: 1 })).toBe(`${text.slice(0, -1)},"e":1}`);
    value.a.value = 2.25;
    expect(stringifyExact(value)).toContain('"a":{"value":2.25}');
  });

  it('keeps a decimal of more significant digits than a double holds (Observation-body-height)', () => {
    const text = '{"valueQuantity":{"value":66.899999999999991,"unit":"in"}}';
    expect(stringifyExact(parseExact(text))).toBe(text);
  });

  it('lets no client string pass for a decimal', () => {
    const value = parseExact('{"a":1.50,"s":"\\u0000x:1.50"}');
    expect(stringifyExact(value)).toBe('{"a":1.50,"s":"\\u0000x:1.50"}');
  });
});

const observation = (value: string) =>
  `{"resourceType":"Observation","status":"final","code":{"text":"poids"},"valueQuantity":{"value":${value},"unit":"kg","system":"http://unitsofmeasure.org","code":"kg"},"component":[{"code":{"text":"x"},"valueQuantity":{"value":20.00}}]}`;

describe.each(DATABASES)('decimals as the client wrote them, on %s', (kind) => {
  const t = useServer(kind);
  const text = async (path: string, init?: RequestInit) => {
    const res = await fetch(path.startsWith('http') ? path : `${t.server.base}/${path}`, {
      ...init,
      headers: { 'content-type': 'application/fhir+json', ...init?.headers },
    });
    return { status: res.status, body: await res.text(), location: res.headers.get('location') };
  };

  it('stores, reads, searches, pages history and projects 1.50 as 1.50', async () => {
    const created = await text('Observation', { method: 'POST', body: observation('1.50') });
    expect(created.status).toBe(201);
    expect(created.body).toContain('"value":1.50');
    const id = JSON.parse(created.body).id as string;
    expect((await text(`Observation/${id}`)).body).toContain('"value":1.50');
    expect((await text(`Observation/${id}?_pretty=true`)).body).toContain('"value": 1.50');
    const found = await text('Observation?value-quantity=1.5');
    expect(JSON.parse(found.body).total).toBe(1);
    expect(found.body).toContain('"value":1.50');
    expect(found.body).toContain('"value":20.00');
    expect((await text('Observation?_elements=valueQuantity')).body).toContain('"value":1.50');
    const updated = await text(`Observation/${id}`, { method: 'PUT', body: observation('1.500').replace('{"resourceType"', `{"id":"${id}","resourceType"`) });
    expect(updated.status).toBe(200);
    const patched = await text(`Observation/${id}`, {
      method: 'PATCH',
      body: JSON.stringify([{ op: 'replace', path: '/status', value: 'amended' }]),
      headers: { 'content-type': 'application/json-patch+json' },
    });
    expect(patched.status).toBe(200);
    expect(patched.body).toContain('"value":1.500');
    const history = await text(`Observation/${id}/_history`);
    expect(history.body).toContain('"value":1.50,');
    expect(history.body).toContain('"value":1.500,');
    expect((await text(`Observation/${id}/_history/1`)).body).toContain('"value":1.50,');
  });

  it('keeps them in transactions', async () => {
    const bundle = `{"resourceType":"Bundle","type":"transaction","entry":[{"resource":${observation('42.256500')},"request":{"method":"POST","url":"Observation"}}]}`;
    const res = await text('', { method: 'POST', body: bundle, headers: { prefer: 'return=representation' } });
    expect(res.status).toBe(200);
    expect(res.body).toContain('"value":42.256500');
    const location = JSON.parse(res.body).entry[0].response.location as string;
    expect((await text(location.split('/_history')[0])).body).toContain('"value":42.256500');
  });
});
