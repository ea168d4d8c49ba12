import { readFileSync } from 'node:fs';
import type { Database } from '../store/db.js';

/**
 * What a pôle requires of the resources written to it (a file in profiles/, see its README):
 * profiles every resource of a type must conform to, and whether a profile named in meta.profile
 * that the registry does not hold is refused (otherwise a warning: US Core in Synthea data...).
 */
export interface ConformancePolicy {
  required: Record<string, string[]>;
  requireKnownProfiles: boolean;
}

export const OPEN_POLICY: ConformancePolicy = { required: {}, requireKnownProfiles: false };

export function readPolicy(file: string): ConformancePolicy {
  const json = JSON.parse(readFileSync(file, 'utf8')) as Partial<ConformancePolicy>;
  const required = json.required ?? {};
  if (typeof required !== 'object' || Object.values(required).some((v) => !Array.isArray(v) || v.some((p) => typeof p !== 'string'))) {
    throw new Error(`${file}: "required" maps resource types to lists of profile canonicals`);
  }
  return { required, requireKnownProfiles: json.requireKnownProfiles === true };
}

const policies = new WeakMap<Database, ConformancePolicy>();

export function setPolicy(db: Database, policy: ConformancePolicy): void {
  policies.set(db.root, policy);
}

export function policyOf(db: Database): ConformancePolicy {
  return policies.get(db.root) ?? OPEN_POLICY;
}
