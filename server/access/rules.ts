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
