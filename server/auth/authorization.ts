import type { OAuthClient } from './clients.js';
import { parseResourceScope, scopesWithin, splitScope } from './scopes.js';
import type { LaunchContext } from './tokens.js';

/** A checked authorization request, kept in the login session until the user has decided. */
export interface AuthorizationRequest {
  clientId: string;
  clientName: string;
  redirectUri: string;
  state: string;
  /** The scopes that may be granted: those asked that the client and the launch allow. */
  scope: string;
  codeChallenge: string;
  nonce?: string;
  /** The context of an EHR launch. */
  launch?: LaunchContext;
  /** A standalone launch asking for a patient: the user picks one. */
  pickPatient: boolean;
  /** A standalone launch (or an EHR launch without one) asking launch/encounter: the user picks the patient's encounter. */
  pickEncounter: boolean;
}

/**
 * Why an authorization request is refused. Until client and redirect URI are known good, the
 * user is told on a page (`redirect` false): redirecting to an unchecked URI would make us an
 * open redirector. Afterwards the error goes back to the app.
 */
export interface Refusal {
  error: string;
  description: string;
  redirect: boolean;
}

const VERIFIER_CHALLENGE_RE = /^[A-Za-z0-9_-]{43}$/;
const refuse = (error: string, description: string): Refusal => ({ error, description, redirect: true });

/**
 * The checks of a request to /auth/authorize by a known client (RFC 6749 §4.1.1, PKCE, SMART App
 * Launch 2.2) that come before its launch handle is used up: a faulty request must not spend it.
 */
export function checkRequest(p: Record<string, string | undefined>, client: OAuthClient, fhirBase: string): Refusal | undefined {
  if (!p.redirect_uri || !client.redirectUris.includes(p.redirect_uri)) {
    return { error: 'invalid_request', description: "L'adresse de retour (redirect_uri) n'est pas celle enregistrée pour cette application.", redirect: false };
  }
  if (p.response_type !== 'code') return refuse('unsupported_response_type', 'response_type must be code');
  if (!client.grantTypes.includes('authorization_code')) return refuse('unauthorized_client', 'This client may not use authorization_code');
  if (!p.state) return refuse('invalid_request', 'state is required');
  if (stripSlash(p.aud) !== fhirBase) return refuse('invalid_request', `aud must be this server's FHIR base, ${fhirBase}`);
  if (p.code_challenge_method !== 'S256' || !VERIFIER_CHALLENGE_RE.test(p.code_challenge ?? '')) {
    return refuse('invalid_request', 'PKCE is required: code_challenge with code_challenge_method S256');
  }
  return undefined;
}

/**
 * The request to keep in the login session, once checkRequest passed and the launch handle, if
 * any, was used (`launch`: its context, undefined when unknown, expired or used).
 */
export function authorizationRequest(
  p: Record<string, string | undefined>,
  client: OAuthClient,
  launch: LaunchContext | undefined,
): AuthorizationRequest | Refusal {
  if (p.launch !== undefined && !launch) return refuse('invalid_request', 'Unknown, expired or already used launch');
  const requested = splitScope(p.scope);
  const pickEncounter = !launch?.encounter && requested.includes('launch/encounter');
  // An encounter is a patient's: picking one starts with the patient.
  const pickPatient = !launch?.patient && (requested.includes('launch/patient') || pickEncounter);
  const patientInContext = !!launch?.patient || pickPatient;
  const scope = scopesWithin(requested, splitScope(client.scope)).filter((s) => {
    const resource = parseResourceScope(s);
    if (resource) return resource.context === 'user' || (resource.context === 'patient' && patientInContext);
    if (s === 'launch') return !!launch;
    if (s === 'launch/patient') return patientInContext;
    if (s === 'launch/encounter') return !!launch?.encounter || pickEncounter;
    return true;
  });
  if (!scope.length) return refuse('invalid_scope', 'None of the requested scopes can be granted to this client');
  return {
    clientId: client.id,
    clientName: client.name,
    redirectUri: p.redirect_uri as string,
    state: p.state as string,
    scope: scope.join(' '),
    codeChallenge: p.code_challenge as string,
    ...(p.nonce ? { nonce: p.nonce } : {}),
    ...(launch ? { launch } : {}),
    pickPatient,
    pickEncounter,
  };
}

const stripSlash = (s: string | undefined) => s?.replace(/\/+$/, '');
