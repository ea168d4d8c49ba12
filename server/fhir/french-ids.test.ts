import { describe, expect, it } from 'vitest';
import { isValidFiness, isValidNir, isValidRpps, isValidSiret, luhnKey, nirKey } from './french-ids.js';

describe('French identifier keys', () => {
  it('computes the NIR key, Corsica included', () => {
    // Worked examples published with the NIR key rule: 2 62 08 75 032 039 -> 77, 2 55 08 14 168 025 -> 38
    expect(nirKey('2620875032039')).toBe('77');
    expect(isValidNir('255081416802538')).toBe(true);
    expect(isValidNir('255081416802539')).toBe(false);
    expect(isValidNir('25508141680253')).toBe(false);
    expect(nirKey('185052A123456')).toBe(nirKey('1850519123456'));
    expect(isValidNir(`185052A123456${nirKey('185052A123456')}`)).toBe(true);
  });

  it('checks RPPS, FINESS and SIRET with Luhn', () => {
    expect(isValidRpps(`1000346103${luhnKey('1000346103')}`)).toBe(true);
    expect(isValidRpps(`1000346103${(Number(luhnKey('1000346103')) + 1) % 10}`)).toBe(false);
    expect(isValidFiness(`35000517${luhnKey('35000517')}`)).toBe(true);
    // FINESS of real establishments (AP-HP EJ, a CH of the FR Core examples) carry Luhn keys
    expect(isValidFiness('750712184')).toBe(true);
    expect(isValidFiness('350005179')).toBe(true);
    expect(isValidFiness('350005178')).toBe(false);
    expect(isValidSiret('73282932000074')).toBe(true);
    expect(isValidSiret('73282932000075')).toBe(false);
  });
});
