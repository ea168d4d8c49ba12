import { hasAdminScope } from '../auth/scopes.js';
import type { Access } from '../auth/tokens.js';
import { reader, type Context } from '../interactions/context.js';
import { NO_RULES, type AccessRules } from './rules.js';
import { withActors, type Visibility } from './visibility.js';

/**
 * Whom a token's holder is for the équipe-de-soins rules: a user acting in the PractitionerRole
 * they chose at login, a system client acting for its configured organisation (`*`: the whole
 * pôle, no rule: null), or, failing both, someone who sees no patient's data.
 */
export function visibilityFor(access: Access, rules: AccessRules): Visibility | null {
  const recordHolders = rules.recordHolders.map((id) => `Organization/${id}`);
  const subscriber = hasAdminScope(access.scope) ? undefined : { clientId: access.clientId, subject: access.subject };
  if (access.role) {
    const practitioner = access.fhirUser?.split('/Practitioner/')[1];
    return {
      principal: { role: access.role, ...(practitioner ? { practitioner } : {}) },
      recordHolders,
      breakGlassActor: breakGlassActor(access),
      subscriber,
    };
  }
  const organization = access.fhirUser ? undefined : rules.clientOrganizations[access.clientId];
  if (organization === '*') return null;
  return { principal: organization ? { organization } : { nobody: true }, recordHolders, subscriber };
}

/** The key a user's break-glass accesses are kept under: their role, through any client. */
export const breakGlassActor = (access: Access): string | undefined => (access.role ? `PractitionerRole/${access.role}` : undefined);

/**
 * Whom the équipe-de-soins rules see in the caller: null when none apply (AUTH=off, the server's
 * own work, a system client of the whole pôle). Derived from the token each time: an interaction
 * cannot forget it. The principal's actors are looked up (and kept while they cannot have changed).
 */
export function visibilityOf(ctx: Context): Promise<Visibility | null> {
  return withActors(reader(ctx), ctx.access ? visibilityFor(ctx.access, ctx.rules ?? NO_RULES) : null);
}
