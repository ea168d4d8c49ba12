import { describe, expect, it } from 'vitest';
import { checkExpressionCost, nestsRepetition } from './expression-cost.js';

describe('regular expressions of stored FHIRPath', () => {
  it('finds a repetition repeated, the shape of catastrophic backtracking', () => {
    for (const p of ['^(a+)+$', '(\\w*\\s?)*', '((a+)b)+', '(?:x{2,}){3,}', '(a|b+)*', '(.*,)*$', '(a[a-z]+)*', '(\\.[^,]+)*', '(\\.(a+)+)*'])
      expect(nestsRepetition(p), p).toBe(true);
    for (const p of [
      '^[0-9]{5}$',
      '[^\\s.]{1,64}(\\.[^\\s.]{1,64}(\\[x\\])?(\\:[^\\s\\.]+)?)*',
      '(,\\d+)*',
      '(ab)+',
      '(a+)?',
      '^\\d+(\\.\\d+)?$',
      '[(a+)+]',
      'a{1}(b){1}',
      '\\(a+\\)+',
    ])
      expect(nestsRepetition(p), p).toBe(false);
  });

  it('refuses a definition that runs one, or a pattern it cannot read, naming where', () => {
    const sp = (expression: string) => ({ resourceType: 'SearchParameter', expression }) as never;
    expect(() => checkExpressionCost(sp("Patient.name.where(family.matches('^(a+)+$'))"))).toThrow(/SearchParameter\.expression: matches\(\) is refused/);
    expect(() => checkExpressionCost(sp("Patient.name.family.replaceMatches('(x*)*', 'y')"))).toThrow(/replaceMatches/);
    expect(() => checkExpressionCost(sp('Patient.name.where(family.matches(%p))'))).toThrow(/not a string literal/);
    expect(() => checkExpressionCost(sp("Patient.name.where(family.matches('^[A-Z]\\'?[a-z]+$'))"))).not.toThrow();
    const sd = {
      resourceType: 'StructureDefinition',
      differential: {
        element: [{ id: 'Patient', path: 'Patient', constraint: [{ key: 'x', severity: 'error', human: 'x', expression: "name.family.matches('(a*)*b')" }] }],
      },
    } as never;
    expect(() => checkExpressionCost(sd)).toThrow(/StructureDefinition\.differential\.element\[0\]\.constraint\[0\]\.expression/);
  });
});
