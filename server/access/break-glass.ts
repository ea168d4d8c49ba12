import { randomUUID } from 'node:crypto';
import type { Parameters } from '@medplum/fhirtypes';
import { actorOf } from '../audit/event.js';
import { breakGlassActor } from './principal.js';
import { NO_RULES } from './rules.js';
import type { Access } from '../auth/tokens.js';
import { badRequest, fail, notFound } from '../fhir/outcome.js';
import type { Queryable } from '../store/db.js';
import { readCurrent } from '../store/resources.js';
import { trailEntry, writeTrail } from '../audit/trail.js';
import { inTransaction, type Context, type FhirRequest, type FhirResponse } from '../interactions/context.js';

/** The reason of a break-glass access of `actor` in force for one of `patients`, if any. */
export async function activeBreakGlass(q: Queryable, actor: string, patients: string[]): Promise<string | undefined> {
  const rows = await q.query<{ reason: string }>(
    `SELECT reason FROM break_glass WHERE actor = $1 AND patient = ANY($2::text[]) AND until > now() ORDER BY started DESC LIMIT 1`,
    [actor, patients],
  );
  return rows[0]?.reason;
}

/**
 * Whether a user's token may declare a break-glass access: one that opens a patient to every
 * token of the user's role must come from one given for the user's own work, with a `user/` scope
 * that writes, without filter; never from a patient-confined or read-only app.
 */
const actsOnOwnBehalf = (access: Access) =>
  access.scopes.some((s) => s.context === 'user' && s.filter === undefined && (s.permissions.has('c') || s.permissions.has('u') || s.permissions.has('d')));

/**
 * POST Patient/[id]/$break-glass with a `reason` (Parameters, valueString): an emergency access
 * to one patient's data for the user's role, outside the équipe de soins and whatever the
 * patient's oppositions, for BREAK_GLASS_MINUTES. It is traced at once (AuditEvent subtype
 * break-glass, listed for review with `AuditEvent?subtype=…|break-glass`), and so is every access
 * made under it (purposeOfEvent BTG with the reason).
 */
export async function breakGlass(ctx: Context, req: FhirRequest, patient: string): Promise<FhirResponse> {
  const access = ctx.access;
  const actor = access && breakGlassActor(access);
  if (!access || !actor) throw fail(403, 'forbidden', 'Break-glass access is for a professional acting in a PractitionerRole');
  if (!actsOnOwnBehalf(access)) {
    throw fail(403, 'forbidden', 'Break-glass access needs a token with user/ scopes allowing a write, without patient or filter restriction');
  }
  const params = req.body as Parameters | undefined;
  const reason = params?.resourceType === 'Parameters' ? params.parameter?.find((x) => x.name === 'reason')?.valueString?.trim() : undefined;
  if (!reason) throw badRequest('A break-glass access needs a reason: Parameters with parameter reason (valueString)');
  const minutes = (ctx.rules ?? NO_RULES).breakGlassMinutes;
  if (minutes <= 0) throw fail(403, 'forbidden', 'Break-glass access is not enabled on this server');
  return inTransaction(ctx, async (tx) => {
    const current = await readCurrent(tx, 'Patient', patient);
    if (!current || current.deleted) throw notFound(`Patient/${patient} is not known`);
    const until = new Date(Date.now() + minutes * 60_000);
    await tx.query(`INSERT INTO break_glass (id, actor, patient, reason, started, until) VALUES ($1, $2, $3, $4, now(), $5)`, [
      randomUUID(),
      actor,
      patient,
      reason,
      until,
    ]);
    const declared = {
      actor: actorOf(access),
      interaction: 'break-glass',
      resources: [],
      patients: [patient],
      started: new Date(),
      until,
      status: 200,
      breakGlass: reason,
      site: ctx.fhirBase,
      address: ctx.address,
    };
    await writeTrail(tx, [trailEntry(declared)]);
    const result: Parameters = { resourceType: 'Parameters', parameter: [{ name: 'until', valueInstant: until.toISOString() }] };
    return { status: 200, resource: result };
  });
}
