import type { AuditEvent, AuditEventAgent, AuditEventEntity, Coding, Provenance, Reference } from '@medplum/fhirtypes';
import { MAILLAGE_CANONICAL } from '../fhir/maillage.js';
import type { Access } from '../auth/tokens.js';

/** The system of our OAuth client ids, for the client as a Device (by identifier: no Device resource is kept). */
export const CLIENT_SYSTEM = `${MAILLAGE_CANONICAL}/oauth-client`;
/** AuditEvent.subtype of a break-glass declaration; `purposeOfUse` BTG marks the accesses under one. */
export const BREAK_GLASS: Coding = { system: `${MAILLAGE_CANONICAL}/CodeSystem/audit`, code: 'break-glass', display: 'Accès en urgence (bris de glace)' };
const BTG: Coding = { system: 'http://terminology.hl7.org/CodeSystem/v3-ActReason', code: 'BTG', display: 'break the glass' };

const ACTIONS: Record<string, AuditEvent['action']> = {
  create: 'C',
  read: 'R',
  vread: 'R',
  update: 'U',
  patch: 'U',
  delete: 'D',
  'history-instance': 'R',
  'history-type': 'R',
  'history-system': 'R',
  'search-type': 'R',
  'search-system': 'R',
  operation: 'E',
};

/**
 * Who acted: the OAuth client, and the role (and Practitioner) of the user it acted for, if any;
 * `user`, the identifier a user gave where no Practitioner is known (a failed login).
 */
export type Actor = Pick<Access, 'clientId' | 'role' | 'fhirUser'> & { user?: { system: string; value: string } };

/** The system of the user names of password logins. */
export const USERNAME_SYSTEM = `${MAILLAGE_CANONICAL}/username`;

/**
 * What one interaction did (or which break-glass access was declared), as the audit trail stores
 * it: the AuditEvent is built from it when read (auditEvent).
 */
export interface AccessRecord {
  actor: Actor;
  /**
   * The restful-interaction code (read, search-type, create, …), `operation`, `break-glass` for a
   * declaration, or `login` for an authentication (a user's login, a token asked for).
   */
  interaction: string;
  /** The operation's name, for `operation`; how one authenticated, for `login` (password, oidc, a grant type). */
  operation?: string;
  /** Versions read or written, `Type/id/_history/v`, or just `Type/id`. */
  resources: string[];
  /** Ids of the patients whose data was touched. */
  patients: string[];
  /** The query of a search, as sent. */
  query?: string;
  started: Date;
  /** End of a break-glass access declared; an interaction ends when it is recorded. */
  until?: Date;
  /** HTTP status of the outcome. */
  status: number;
  diagnostics?: string;
  /** The reason of the break-glass access in force for a patient touched (or declared), if any. */
  breakGlass?: string;
  address?: string;
  /** The server's base URL (AuditEvent.source.site). */
  site: string;
}

/** The record of an authentication: a user's login (`how`: password, oidc), or a token asked for (`how`: its grant type). */
export function loginRecord(
  actor: Actor,
  how: string,
  status: number,
  site: string,
  more: { started: Date; address?: string; diagnostics?: string },
): AccessRecord {
  return { actor, interaction: 'login', operation: how, resources: [], patients: [], status, site, ...more };
}

/** The actor of an access token, as the trail keeps it. */
export const actorOf = (a: Access): Actor => ({ clientId: a.clientId, ...(a.role ? { role: a.role } : {}), ...(a.fhirUser ? { fhirUser: a.fhirUser } : {}) });

/**
 * The agent of the user (the role they act in, with their Practitioner as altId; or, logging in,
 * their Practitioner or the identifier they gave) and that of the client; or the client's alone.
 */
function agents(a: Actor, address: string | undefined, purposeOfUse: Coding[] | undefined): AuditEventAgent[] {
  const practitioner = /Practitioner\/[^/]+$/.exec(a.fhirUser ?? '')?.[0];
  const who = userWho(a);
  const client: AuditEventAgent = {
    type: { coding: [{ system: 'http://dicom.nema.org/resources/ontology/DCM', code: '110150', display: 'Application' }] },
    who: { type: 'Device' as const, identifier: { system: CLIENT_SYSTEM, value: a.clientId }, display: a.clientId },
    requestor: !who,
    ...(address ? { network: { address, type: '2' as const } } : {}),
  };
  if (!who) return [{ ...client, ...(purposeOfUse ? { purposeOfUse: [{ coding: purposeOfUse }] } : {}) }];
  const user: AuditEventAgent = {
    type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ParticipationType', code: 'IRCP', display: 'information recipient' }] },
    who,
    ...(a.role && practitioner ? { altId: practitioner } : {}),
    requestor: true,
    ...(purposeOfUse ? { purposeOfUse: [{ coding: purposeOfUse }] } : {}),
  };
  return [user, client];
}

/** Who the user is in the trail: the role they act in, else their Practitioner, else the identifier they gave. */
export function userWho(a: Actor): AuditEventAgent['who'] {
  if (a.role) return { reference: `PractitionerRole/${a.role}` };
  const practitioner = /Practitioner\/[^/]+$/.exec(a.fhirUser ?? '')?.[0];
  if (practitioner) return { reference: practitioner };
  return a.user ? { identifier: a.user } : undefined;
}

const entity = (what: Reference, code: string, display: string, role?: Coding): AuditEventEntity => ({
  what,
  type: { system: 'http://terminology.hl7.org/CodeSystem/audit-entity-type', code, display },
  ...(role ? { role } : {}),
});

/** The HTTP status of an interaction as AuditEvent.outcome. */
export const outcomeOf = (status: number): AuditEvent['outcome'] => (status < 400 ? '0' : status < 500 ? '4' : '8');

/** AuditEvent.action of an interaction. */
export const actionOf = (interaction: string): AuditEvent['action'] => ACTIONS[interaction] ?? 'E';

/** AuditEvent.type of an interaction: a RESTful operation, or a user authentication. */
export const typeOf = (interaction: string): Coding => (interaction === 'login' ? USER_AUTHENTICATION : REST);

/** AuditEvent.subtype of an interaction. */
export function subtypeOf(interaction: string, operation?: string): Coding {
  if (interaction === 'break-glass') return BREAK_GLASS;
  if (interaction === 'login') return LOGIN;
  return { system: RESTFUL_INTERACTION, code: interaction, ...(operation ? { display: operation } : {}) };
}

export const RESTFUL_INTERACTION = 'http://hl7.org/fhir/restful-interaction';
const REST: Coding = { system: 'http://terminology.hl7.org/CodeSystem/audit-event-type', code: 'rest', display: 'RESTful Operation' };
const USER_AUTHENTICATION: Coding = { system: 'http://dicom.nema.org/resources/ontology/DCM', code: '110114', display: 'User Authentication' };
const LOGIN: Coding = { system: 'http://dicom.nema.org/resources/ontology/DCM', code: '110122', display: 'Login' };

/**
 * The AuditEvent of one access, a break-glass declaration or an authentication (ANS TDE style: type
 * rest, restful-interaction subtype, who, client, what, patient, when, outcome; DICOM user
 * authentication and login for a login), recorded at `recorded`.
 */
export function auditEvent(r: AccessRecord, recorded: Date): AuditEvent {
  const entities: AuditEventEntity[] = [
    ...r.patients.map((id) =>
      entity({ reference: `Patient/${id}` }, '1', 'Person', { system: 'http://terminology.hl7.org/CodeSystem/object-role', code: '1', display: 'Patient' }),
    ),
    ...r.resources.map((ref) => entity({ reference: ref }, '2', 'System Object')),
    ...(r.query !== undefined ? [{ ...entity({ display: 'query' }, '2', 'System Object'), query: Buffer.from(r.query).toString('base64') }] : []),
    ...(r.interaction === 'login' && r.operation
      ? [{ ...entity({ display: 'authentication' }, '2', 'System Object'), detail: [{ type: 'method', valueString: r.operation }] }]
      : []),
  ];
  return {
    resourceType: 'AuditEvent',
    type: typeOf(r.interaction),
    subtype: [subtypeOf(r.interaction, r.operation)],
    action: actionOf(r.interaction),
    period: { start: r.started.toISOString(), end: (r.until ?? recorded).toISOString() },
    recorded: recorded.toISOString(),
    outcome: outcomeOf(r.status),
    ...(r.diagnostics ? { outcomeDesc: r.diagnostics } : {}),
    ...(r.breakGlass ? { purposeOfEvent: [{ coding: [BTG], text: r.breakGlass }] } : {}),
    agent: agents(r.actor, r.address, r.breakGlass ? [BTG] : undefined),
    source: {
      site: r.site,
      observer: { display: 'Maillage' },
      type: [{ system: 'http://terminology.hl7.org/CodeSystem/security-source-type', code: '4', display: 'Application Server' }],
    },
    ...(entities.length ? { entity: entities } : {}),
  };
}

/** The Provenance of a written version: authored by the role the user acts in (or the system client), through the client as a device. */
export function provenance(a: Access, target: string): Provenance {
  const device = { type: 'Device' as const, identifier: { system: CLIENT_SYSTEM, value: a.clientId }, display: a.clientId };
  const agentType = (code: string, display: string) => ({
    coding: [{ system: 'http://terminology.hl7.org/CodeSystem/provenance-participant-type', code, display }],
  });
  return {
    resourceType: 'Provenance',
    target: [{ reference: target }],
    recorded: new Date().toISOString(),
    agent: [
      ...(a.role ? [{ type: agentType('author', 'Author'), who: { reference: `PractitionerRole/${a.role}` } }] : []),
      { type: agentType(a.role ? 'device' : 'author', a.role ? 'Device' : 'Author'), who: device },
    ],
  };
}
