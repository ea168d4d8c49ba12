import type { OperationOutcomeIssue, Resource } from '@medplum/fhirtypes';
import { isLuhnValid, isValidNir, SYSTEMS } from '../fhir/french-ids.js';

interface Rule {
  /** Identifier types (fr-core-cs-v2-0203) under which the system carries this number; any when empty. */
  types: string[];
  format: RegExp;
  what: string;
  /** Whether the key is right; a wrong key is an error where the number is always keyed (NIR). */
  key?: (value: string) => boolean;
  keyIsError?: boolean;
}

const NIR: Rule = {
  types: [],
  format: /^[1-478]\d{4}(\d{2}|2A|2B)\d{6}\d{2}$/i,
  what: 'an INS (NIR or NIA): 15 characters',
  key: isValidNir,
  keyIsError: true,
};

/**
 * The national identifiers that carry a format and a key (DESIGN.md, "French identifiers").
 * RPPS, FINESS, SIREN and SIRET keys are Luhn keys; the RPPS numbers in the FR Core and Annuaire
 * examples do not pass it (nor do some FINESS of the Annuaire's), so a wrong key is a warning
 * there, and a wrong format an error. An INS is always keyed by INSi: a wrong key is an error.
 */
const RULES: Record<string, Rule[]> = {
  [SYSTEMS.rpps]: [{ types: ['RPPS'], format: /^\d{11}$/, what: 'an RPPS number: 11 digits', key: isLuhnValid }],
  [SYSTEMS.finess]: [
    {
      types: ['FINEG', 'FINEJ'],
      format: /^\d{2}[\dAB]\d{6}$/,
      what: 'a FINESS number: 9 characters',
      key: (v) => isLuhnValid(v.replace(/^(\d)(\d)[AB]/, '$1$20')),
    },
  ],
  [SYSTEMS.sirene]: [
    { types: ['SIREN'], format: /^\d{9}$/, what: 'a SIREN number: 9 digits', key: isLuhnValid },
    { types: ['SIRET'], format: /^\d{14}$/, what: 'a SIRET number: 14 digits', key: isLuhnValid },
  ],
  [SYSTEMS.insNir]: [NIR],
  [SYSTEMS.insNia]: [NIR],
  [SYSTEMS.insNirTest]: [NIR],
  [SYSTEMS.insNirDemo]: [NIR],
};

/** Checks every Identifier of a resource (nested and contained ones too) on the French systems. */
export function checkFrenchIdentifiers(resource: Resource): OperationOutcomeIssue[] {
  const issues: OperationOutcomeIssue[] = [];
  const visit = (value: unknown, path: string): void => {
    if (Array.isArray(value)) return value.forEach((v, i) => visit(v, `${path}[${i}]`));
    if (value === null || typeof value !== 'object') return;
    const object = value as Record<string, unknown>;
    if (typeof object.system === 'string' && typeof object.value === 'string' && RULES[object.system]) check(object, path);
    for (const [key, content] of Object.entries(object)) if (!key.startsWith('_')) visit(content, `${path}.${key}`);
  };
  const check = (identifier: Record<string, unknown>, path: string): void => {
    const value = identifier.value as string;
    const types = ((identifier.type as { coding?: { code?: string }[] } | undefined)?.coding ?? []).map((c) => c.code);
    const rules = RULES[identifier.system as string];
    // The Annuaire puts other numbers on the RPPS system, untyped: only the typed ones are RPPS numbers.
    const rule = rules.find((r) => r.types.length === 0 || r.types.some((t) => types.includes(t)));
    if (!rule) return;
    if (!rule.format.test(value)) {
      issues.push(fault('error', `${path}.value`, `'${value}' is not ${rule.what} (${identifier.system})`));
    } else if (rule.key && !rule.key(value)) {
      issues.push(fault(rule.keyIsError ? 'error' : 'warning', `${path}.value`, `The key of '${value}' is wrong (${identifier.system})`));
    }
  };
  visit(resource, resource.resourceType);
  return issues;
}

function fault(severity: 'error' | 'warning', path: string, text: string): OperationOutcomeIssue {
  return { severity, code: 'value', details: { text }, expression: [path] };
}
