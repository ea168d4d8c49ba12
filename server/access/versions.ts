import type { Permission } from '../auth/scopes.js';
import type { Context } from '../interactions/context.js';
import type { VersionCondition } from '../store/resources.js';
import { visibilityOf } from './principal.js';
import { restrictionsFor } from './restrictions.js';
import { isJudged, versionAccessSql, type AccessCheck } from './visibility.js';

/**
 * The condition a version of `type` (undefined: any type) must meet to be shown to the caller by a
 * vread or a history (`permission` the route's): the équipe-de-soins rules for the patients that
 * version names, and, under patient/ scopes only, the patient in context among them. Undefined:
 * nothing to check. Each version on its own: the current row says nothing of the patients an
 * older version or a deleted resource named.
 */
export async function versionRules(ctx: Context, type: string | undefined, permission: Permission, check: AccessCheck): Promise<VersionCondition | undefined> {
  const visibility = type && !isJudged(type) ? null : await visibilityOf(ctx);
  const rs = ctx.access ? restrictionsFor(ctx.access, type, permission) : [];
  const patient = rs.length && rs.every((r) => r.patient) ? rs[0].patient : undefined;
  if (!visibility && !patient) return undefined;
  return (alias, add) => {
    const conditions = visibility ? [versionAccessSql(visibility, alias, type, { add }, check)] : [];
    if (patient) conditions.push(`${add(patient)}::text = ANY(${alias}.patients)`);
    return conditions.join(' AND ');
  };
}
