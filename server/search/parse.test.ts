import { describe, expect, it } from 'vitest';
import { FhirError } from '../fhir/outcome.js';
import { STORAGES } from '../stores/by-type.js';
import { parseSearch, type SearchRequest } from './parse.js';

/** Parses a query string as a search of `types` (strict: unknown parameters are errors). */
const parse = (types: string[], query: string, strict = true): SearchRequest => parseSearch(types, new URLSearchParams(query), strict, STORAGES);

/** The OperationOutcome a search is refused with, and its status; fails if it is accepted. */
function refusal(types: string[], query: string, strict = true): { status: number; code: string | undefined; diagnostics: string } {
  try {
    parse(types, query, strict);
  } catch (err) {
    expect(err).toBeInstanceOf(FhirError);
    const { status, outcome } = err as FhirError;
    expect(outcome.resourceType).toBe('OperationOutcome');
    expect(outcome.issue?.[0]?.severity).toBe('error');
    return { status, code: outcome.issue?.[0]?.code, diagnostics: outcome.issue?.[0]?.diagnostics ?? '' };
  }
  throw new Error(`${query} was accepted`);
}

describe('parseSearch', () => {
  it('reads criteria: one filter per parameter (ANDed), its values split on unescaped commas (ORed)', () => {
    const req = parse(['Patient'], 'family=Dupont&given=Hélène,Marie&given=Zoé&identifier=urn:x|a\\,b');
    expect(req.filters).toMatchObject([
      { kind: 'param', param: { code: 'family', type: 'string' }, values: ['Dupont'] },
      { kind: 'param', param: { code: 'given' }, values: ['Hélène', 'Marie'] },
      { kind: 'param', param: { code: 'given' }, values: ['Zoé'] },
      // The escape stays in the value: the compiler unescapes what it compares.
      { kind: 'param', param: { code: 'identifier', type: 'token' }, values: ['urn:x|a\\,b'] },
    ]);
    expect(req.filters.every((f) => f.kind !== 'param' || f.modifier === undefined)).toBe(true);
    expect(req).toMatchObject({ types: ['Patient'], sort: [], include: [], count: 20, total: 'page', ignored: [] });
    expect(req.applied).toEqual([
      ['family', 'Dupont'],
      ['given', 'Hélène,Marie'],
      ['given', 'Zoé'],
      ['identifier', 'urn:x|a\\,b'],
    ]);
  });

  it('takes the modifiers of each parameter type, a reference’s :[type] among them, and refuses the others with a 400', () => {
    const modified = (query: string) => {
      const [f] = parse(['Patient'], query).filters;
      return f.kind === 'param' ? [f.param.code, f.modifier] : undefined;
    };
    expect(modified('family:exact=Dupont')).toEqual(['family', 'exact']);
    expect(modified('family:contains=pon')).toEqual(['family', 'contains']);
    expect(modified('gender:not=male')).toEqual(['gender', 'not']);
    expect(modified('identifier:of-type=urn:t|NIR|1')).toEqual(['identifier', 'of-type']);
    expect(modified('birthdate:missing=true')).toEqual(['birthdate', 'missing']);
    expect(modified('general-practitioner:Practitioner=dr-1')).toEqual(['general-practitioner', 'Practitioner']);
    expect(modified('general-practitioner:identifier=urn:rpps|1')).toEqual(['general-practitioner', 'identifier']);

    expect(refusal(['Patient'], 'birthdate:exact=1950')).toMatchObject({ status: 400, code: 'not-supported' });
    expect(refusal(['Patient'], 'family:text=x')).toMatchObject({ status: 400, code: 'not-supported' });
    expect(refusal(['Patient'], 'family:exact:contains=x')).toMatchObject({ status: 400, code: 'not-supported' });
    // A type the reference cannot point to.
    expect(refusal(['Patient'], 'general-practitioner:Observation=o-1')).toMatchObject({ status: 400, code: 'not-supported' });
    // Even lenient handling refuses a modifier it cannot apply: the search would be wider than asked.
    expect(refusal(['Patient'], 'birthdate:exact=1950', false)).toMatchObject({ status: 400 });
  });

  it('checks values when parsing: prefixes of dates and numbers, :missing, :of-type, composites', () => {
    for (const ok of ['birthdate=1950', 'birthdate=ge1950-06', 'birthdate=lt1950-06-01T10:00:00Z', 'birthdate=ap1950', 'birthdate=ne1950']) {
      expect(parse(['Patient'], ok).filters).toHaveLength(1);
    }
    expect(parse(['Observation'], 'value-quantity=gt5.4|http://unitsofmeasure.org|mmol/L').filters).toHaveLength(1);
    expect(parse(['Observation'], 'code-value-quantity=http://loinc.org|8480-6$gt140').filters).toMatchObject([
      { kind: 'param', param: { code: 'code-value-quantity', type: 'composite' } },
    ]);
    for (const [type, query] of [
      ['Patient', 'birthdate=yesterday'],
      ['Patient', 'birthdate=xx1950'],
      ['Patient', 'birthdate=1950-13'],
      ['Observation', 'value-quantity=gtfive'],
      ['Observation', 'code-value-quantity=http://loinc.org|8480-6'],
      ['Patient', 'birthdate:missing=maybe'],
      ['Patient', 'identifier:of-type=urn:t|NIR'],
    ]) {
      expect(refusal([type], query), query).toMatchObject({ status: 400, code: 'invalid' });
    }
  });

  it('reads chains through reference parameters, with or without a target type, several steps deep', () => {
    expect(parse(['Observation'], 'subject:Patient.name=dupont').filters).toMatchObject([
      { kind: 'chain', param: { code: 'subject' }, targets: ['Patient'], next: { kind: 'param', param: { code: 'name' }, values: ['dupont'] } },
    ]);
    // Without a type: the targets that have the next parameter.
    const [untyped] = parse(['Observation'], 'subject.birthdate=1950').filters;
    expect(untyped).toMatchObject({ kind: 'chain', targets: ['Patient'] });
    expect(parse(['Observation'], 'subject:Patient.general-practitioner:Practitioner.family=Morvan').filters).toMatchObject([
      {
        kind: 'chain',
        targets: ['Patient'],
        next: { kind: 'chain', param: { code: 'general-practitioner' }, targets: ['Practitioner'], next: { kind: 'param', param: { code: 'family' } } },
      },
    ]);
    expect(refusal(['Observation'], 'code.name=x')).toMatchObject({ status: 400 });
    expect(refusal(['Observation'], 'subject:Patient.nope=x')).toMatchObject({ status: 400 });
    // Too deep a chain is refused whatever the handling, naming its setting.
    const deep = refusal(['Observation'], 'subject:Patient.link:Patient.link:Patient.link:Patient.link:Patient.name=x', false);
    expect(deep).toMatchObject({ status: 400, code: 'too-costly' });
    expect(deep.diagnostics).toContain('SEARCH_MAX_DEPTH');
  });

  it('reads _has, nested, and refuses a malformed one', () => {
    expect(parse(['Patient'], '_has:Observation:subject:code=8480-6').filters).toMatchObject([
      { kind: 'has', type: 'Observation', param: { code: 'subject' }, next: { kind: 'param', param: { code: 'code' }, values: ['8480-6'] } },
    ]);
    expect(parse(['Patient'], '_has:Observation:subject:_has:Provenance:target:agent=Practitioner/dr').filters).toMatchObject([
      {
        kind: 'has',
        type: 'Observation',
        next: { kind: 'has', type: 'Provenance', param: { code: 'target' }, next: { kind: 'param', param: { code: 'agent' } } },
      },
    ]);
    expect(refusal(['Patient'], '_has:Observation:subject=x')).toMatchObject({ status: 400, code: 'invalid' });
    // Not a reference parameter, an unknown type: unsupported, so ignored when lenient.
    expect(refusal(['Patient'], '_has:Observation:code:status=final')).toMatchObject({ status: 400 });
    expect(parse(['Patient'], '_has:Nothing:subject:code=x', false)).toMatchObject({
      filters: [],
      ignored: [expect.stringContaining('_has:Nothing:subject:code')],
    });
  });

  it('reads _include and _revinclude, :iterate and *, and refuses a malformed one', () => {
    expect(
      parse(['Observation'], '_include=Observation:subject:Patient&_include:iterate=Patient:general-practitioner&_revinclude=Provenance:target&_include=*')
        .include,
    ).toEqual([
      { reverse: false, iterate: false, type: 'Observation', param: 'subject', target: 'Patient' },
      { reverse: false, iterate: true, type: 'Patient', param: 'general-practitioner', target: undefined },
      { reverse: true, iterate: false, type: 'Provenance', param: 'target', target: undefined },
      { reverse: false, iterate: false },
    ]);
    expect(parse(['Observation'], '_revinclude:recurse=Observation:*').include).toEqual([{ reverse: true, iterate: true, type: 'Observation' }]);
    expect(refusal(['Observation'], '_include=Observation')).toMatchObject({ status: 400, code: 'invalid' });
    expect(refusal(['Observation'], '_include=Observation:code')).toMatchObject({ status: 400 });
    expect(parse(['Observation'], '_include=Observation:code', false)).toMatchObject({ include: [], ignored: [expect.stringContaining('_include')] });
  });

  it('reads the result parameters: _sort, _count, _total, _summary, _elements, _type', () => {
    expect(parse(['Observation'], '_sort=-date,code,_id').sort.map((k) => [k.param.code, k.desc])).toEqual([
      ['date', true],
      ['code', false],
      ['_id', false],
    ]);
    expect(parse(['Observation'], '_count=5').count).toBe(5);
    // Above the limit, lowered to it (as R4 allows).
    expect(parse(['Observation'], '_count=100000').count).toBe(1000);
    expect(parse(['Observation'], '_count=0')).toMatchObject({ count: 0, total: 'accurate' });
    expect(parse(['Observation'], '_summary=count')).toMatchObject({ summary: 'count', count: 0, total: 'accurate' });
    expect(parse(['Observation'], '_total=estimate').total).toBe('estimate');
    expect(parse(['Observation'], '_elements=status, code,').elements).toEqual(['status', 'code']);
    expect(parse([], '_type=Patient,Practitioner&name=dupont')).toMatchObject({ types: ['Patient', 'Practitioner'], filters: [{ param: { code: 'name' } }] });
    expect(parse(['Patient'], '_format=json&_pretty=true&_cursor=abc')).toMatchObject({ cursor: 'abc', applied: [] });
    for (const query of ['_count=-1', '_count=ten', '_total=all', '_summary=short', '_type=Patient,Nothing']) {
      expect(refusal(query.startsWith('_type') ? [] : ['Observation'], query), query).toMatchObject({ status: 400, code: 'invalid' });
    }
    expect(refusal(['Observation'], '_sort=code-value-quantity')).toMatchObject({ status: 400 });
  });

  it('ignores an unknown parameter and says so when lenient, refuses it when strict', () => {
    expect(parse(['Patient'], 'nothing=1&family=Dupont', false)).toMatchObject({
      filters: [{ param: { code: 'family' } }],
      ignored: [expect.stringContaining('nothing')],
      applied: [['family', 'Dupont']],
    });
    expect(refusal(['Patient'], 'nothing=1')).toMatchObject({ status: 400, code: 'invalid' });
    // A parameter must mean the same on every type searched.
    expect(refusal([], '_type=Patient,Observation&code=x')).toMatchObject({ status: 400 });
  });

  it('refuses a search beyond the request limits, naming the setting', () => {
    const many = Array.from({ length: 41 }, (_, i) => `family=a${i}`).join('&');
    expect(refusal(['Patient'], many, false)).toMatchObject({ status: 400, code: 'too-costly' });
    expect(refusal(['Patient'], Array.from({ length: 11 }, () => 'family=a').join('&'))).toMatchObject({ status: 400, code: 'too-costly' });
    expect(refusal(['Patient'], `family=${Array.from({ length: 101 }, (_, i) => `a${i}`).join(',')}`)).toMatchObject({ status: 400, code: 'too-costly' });
    const long = refusal(['Patient'], `family=${'a'.repeat(1025)}`);
    expect(long).toMatchObject({ status: 400, code: 'too-long' });
    expect(long.diagnostics).toContain('SEARCH_MAX_VALUE_LENGTH');
  });

  it('reads a compartment search as a filter on the compartment’s parameters', () => {
    const req = parseSearch(['Observation'], new URLSearchParams('code=8480-6'), true, STORAGES, { type: 'Patient', id: 'p1' });
    expect(req.filters[0]).toMatchObject({
      kind: 'compartment',
      target: { type: 'Patient', id: 'p1' },
      params: expect.arrayContaining(['subject', 'performer']),
    });
    expect(() => parseSearch(['Organization'], new URLSearchParams(), true, STORAGES, { type: 'Patient', id: 'p1' })).toThrow(FhirError);
  });
});
