import type { Permission } from '../auth/scopes.js';
import type { Access } from '../auth/tokens.js';

/**
 * One way a token reaches resources of a type: confined to a patient's compartment (patient/
 * scopes), to what a scope's `?param=value` filter matches, both, or neither (`{}`: every resource).
 */
export interface Restriction {
  patient?: string;
  filter?: string;
}

/**
 * The ways `access` may use `permission` on resources of `type` (undefined: every type at once,
 * system-wide interactions). Empty: not at all. Holding `{}`: without restriction. Scopes add
 * up, so the result is the union of the alternatives. A patient/ scope without a patient in
 * context gives nothing.
 */
export function restrictionsFor(access: Access, type: string | undefined, permission: Permission): Restriction[] {
  const out: Restriction[] = [];
  for (const s of access.scopes) {
    if (!s.permissions.has(permission) || !(s.type === '*' || (type !== undefined && s.type === type))) continue;
    if (s.context === 'patient' && !access.patient) continue;
    const r: Restriction = {};
    if (s.context === 'patient') r.patient = access.patient;
    if (s.filter !== undefined) r.filter = s.filter;
    if (!r.patient && !r.filter) return [{}];
    out.push(r);
  }
  return out;
}

export const unrestricted = (rs: Restriction[]) => rs.some((r) => !r.patient && !r.filter);
