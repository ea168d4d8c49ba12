import type { Visibility } from '../search/visibility.js';
import type { Access } from './tokens.js';

/** What the pôle configures for the équipe-de-soins rules (config.ts: ACCESS_RULES_FILE and the environment). */
export interface AccessRules {
  /** Organisation ids that hold their patients' records (e.g. the MSP for its enrolled patients). */
  recordHolders: string[];
  /** The organisation each system client acts for; `*` for the whole pôle (the operator's backend). */
  clientOrganizations: Record<string, string>;
  /** How long a break-glass access lasts. */
  breakGlassMinutes: number;
}

export const NO_RULES: AccessRules = { recordHolders: [], clientOrganizations: {}, breakGlassMinutes: 0 };

/**
 * Whom a token's holder is for the équipe-de-soins rules: a user acting in the PractitionerRole
 * they chose at login, a system client acting for its configured organisation (`*`: the whole
 * pôle, no rule: null), or, failing both, someone who sees no patient's data.
 */
export function visibilityFor(access: Access, rules: AccessRules): Visibility | null {
  const recordHolders = rules.recordHolders.map((id) => `Organization/${id}`);
  if (access.role) {
    const practitioner = access.fhirUser?.split('/Practitioner/')[1];
    return { principal: { role: access.role, ...(practitioner ? { practitioner } : {}) }, recordHolders, breakGlassActor: breakGlassActor(access) };
  }
  const organization = access.fhirUser ? undefined : rules.clientOrganizations[access.clientId];
  if (organization === '*') return null;
  return { principal: organization ? { organization } : { nobody: true }, recordHolders };
}

/** The key a user's break-glass accesses are kept under: their role, through any client. */
export const breakGlassActor = (access: Access): string | undefined => (access.role ? `PractitionerRole/${access.role}` : undefined);
