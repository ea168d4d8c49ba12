/**
 * French national identifiers (DESIGN.md, "French identifiers"): their systems, and the keys of
 * those that carry one. Check digits are public algorithms: Luhn for RPPS, FINESS, SIREN and
 * SIRET; 97 − (n mod 97) for the NIR, with Corsica's 2A/2B read as 19/18.
 */
export const SYSTEMS = {
  idnps: 'urn:oid:1.2.250.1.71.4.2.1',
  rpps: 'https://rpps.esante.gouv.fr',
  idnst: 'urn:oid:1.2.250.1.71.4.2.2',
  finess: 'https://finess.esante.gouv.fr',
  sirene: 'https://sirene.fr',
  insNir: 'urn:oid:1.2.250.1.213.1.4.8',
  insNia: 'urn:oid:1.2.250.1.213.1.4.9',
  insNirTest: 'urn:oid:1.2.250.1.213.1.4.10',
  insNirDemo: 'urn:oid:1.2.250.1.213.1.4.11',
  identifierType: 'https://hl7.fr/ig/fhir/core/CodeSystem/fr-core-cs-v2-0203',
} as const;

/** Luhn check digit to append to a string of digits. */
export function luhnKey(digits: string): string {
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let d = Number(digits[digits.length - 1 - i]);
    // Counting from the right of the payload, every first digit is doubled (the key comes after it).
    if (i % 2 === 0) d = d * 2 > 9 ? d * 2 - 9 : d * 2;
    sum += d;
  }
  return String((10 - (sum % 10)) % 10);
}

export const isLuhnValid = (value: string) => /^\d{2,}$/.test(value) && luhnKey(value.slice(0, -1)) === value.slice(-1);

/** The 2-digit key of a 13-character NIR (Corsica: 2A and 2B count as 19 and 18). */
export function nirKey(nir13: string): string {
  const numeric = nir13.replace(/^(\d{5})2A/i, '$119').replace(/^(\d{5})2B/i, '$118');
  return String(97 - Number(BigInt(numeric) % 97n)).padStart(2, '0');
}

/** A 15-character INS-NIR: sex, year, month, département, commune, order, key. */
export function isValidNir(value: string): boolean {
  if (!/^[1-478]\d{4}(\d{2}|2A|2B)\d{6}\d{2}$/i.test(value)) return false;
  return nirKey(value.slice(0, 13)) === value.slice(13);
}

export const isValidRpps = (value: string) => /^\d{11}$/.test(value) && isLuhnValid(value);
export const isValidFiness = (value: string) => /^\d{9}$/.test(value) && isLuhnValid(value);
export const isValidSiren = (value: string) => /^\d{9}$/.test(value) && isLuhnValid(value);
export const isValidSiret = (value: string) => /^\d{14}$/.test(value) && isLuhnValid(value);
