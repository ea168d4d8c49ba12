import { timingSafeEqual } from 'node:crypto';
import { createLocalJWKSet, createRemoteJWKSet, decodeJwt, decodeProtectedHeader, jwtVerify, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import type { Queryable } from '../store/db.js';
import { recordAssertion } from '../store/oauth-state.js';
import { secretDigest, type ClientRegistry, type OAuthClient } from './clients.js';
import { OAuthError } from './tokens.js';

const JWT_BEARER = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
/** SMART Backend Services: RS384 and ES384 at least. */
export const ASSERTION_ALGS = ['RS384', 'ES384', 'RS256', 'ES256', 'RS512', 'ES512'];
const MAX_ASSERTION_SECONDS = 300;

/** What a client presents at the token, introspection and revocation endpoints. */
export interface ClientCredentials {
  authorization?: string;
  form: Record<string, string | undefined>;
}

/** RFC 6749 §5.2: 401 when the client tried HTTP authentication, 400 otherwise. */
const invalidClient = (why: string, basic = false) => new OAuthError(basic ? 401 : 400, 'invalid_client', why);

/**
 * Authenticates the client of a request: HTTP Basic (client_secret_basic), form secret
 * (client_secret_post), a signed assertion (private_key_jwt), or only its id for a public client.
 * A confidential client must prove itself; every failure is `invalid_client`.
 */
export class ClientAuthenticator {
  private readonly remoteKeys = new Map<string, JWTVerifyGetKey>();

  constructor(
    private readonly clients: ClientRegistry,
    private readonly db: Queryable,
    /** The token endpoint URL: the audience of client assertions. */
    private readonly tokenEndpoint: string,
  ) {}

  async authenticate({ authorization, form }: ClientCredentials): Promise<OAuthClient> {
    if (authorization?.startsWith('Basic ')) {
      const decoded = Buffer.from(authorization.slice(6), 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      if (colon <= 0) throw invalidClient('Malformed HTTP Basic credentials', true);
      return this.bySecret(safeDecode(decoded.slice(0, colon)), safeDecode(decoded.slice(colon + 1)), true);
    }
    if (form.client_assertion_type !== undefined || form.client_assertion !== undefined) {
      if (form.client_assertion_type !== JWT_BEARER || !form.client_assertion) throw invalidClient(`client_assertion_type must be ${JWT_BEARER}`);
      return this.byAssertion(form.client_assertion, form.client_id);
    }
    if (form.client_secret !== undefined) return this.bySecret(form.client_id ?? '', form.client_secret);
    const client = form.client_id ? await this.clients.find(form.client_id) : undefined;
    if (!client) throw invalidClient('Unknown client, or no client authentication');
    if (client.authMethod !== 'none') throw invalidClient('This client must authenticate');
    return client;
  }

  private async bySecret(id: string, secret: string, basic = false): Promise<OAuthClient> {
    const client = await this.clients.find(id);
    const ok = client?.secretDigest && timingSafeEqual(Buffer.from(client.secretDigest, 'hex'), Buffer.from(secretDigest(secret), 'hex'));
    if (!client || !ok) throw invalidClient('Unknown client or wrong secret', basic);
    return client;
  }

  /** private_key_jwt (RFC 7523, SMART Backend Services): keys by kid, jku only from the allow-list, jti once. */
  private async byAssertion(assertion: string, formClientId: string | undefined): Promise<OAuthClient> {
    let header: ReturnType<typeof decodeProtectedHeader>;
    let id: string | undefined;
    try {
      header = decodeProtectedHeader(assertion);
      id = decodeJwt(assertion).iss;
    } catch {
      throw invalidClient('Malformed client assertion');
    }
    const client = id ? await this.clients.find(id) : undefined;
    if (client?.authMethod !== 'private_key_jwt') throw invalidClient('Unknown client, or not registered for private_key_jwt');
    if (formClientId !== undefined && formClientId !== client.id) throw invalidClient('client_id is not the assertion issuer');
    if (header.jku !== undefined && header.jku !== client.jwksUri) throw invalidClient('The jku of the assertion is not a registered key set URL');
    const keys = this.keySet(client, header.jku);
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(assertion, keys, {
        issuer: client.id,
        subject: client.id,
        audience: this.tokenEndpoint,
        algorithms: ASSERTION_ALGS,
        requiredClaims: ['exp', 'jti'],
      }));
    } catch (err) {
      throw invalidClient(`Invalid client assertion: ${(err as Error).message}`);
    }
    const exp = payload.exp as number;
    if (exp - Date.now() / 1000 > MAX_ASSERTION_SECONDS) throw invalidClient('The client assertion expires more than 5 minutes from now');
    if (!(await recordAssertion(this.db, client.id, payload.jti as string, new Date(exp * 1000)))) {
      throw invalidClient('This client assertion (jti) was already used');
    }
    return client;
  }

  private keySet(client: OAuthClient, jku: string | undefined): JWTVerifyGetKey {
    const uri = jku ?? client.jwksUri;
    if (!uri) return createLocalJWKSet(client.jwks as never);
    let keys = this.remoteKeys.get(uri);
    if (!keys) this.remoteKeys.set(uri, (keys = createRemoteJWKSet(new URL(uri), { timeoutDuration: 5000 })));
    return keys;
  }
}

/**
 * The client id a request claims (HTTP Basic, else `client_id`, else its assertion's issuer),
 * before any check: for the audit trail of a refusal, and the limit of failed authentications.
 */
export function claimedClientId({ authorization, form }: ClientCredentials): string | undefined {
  if (!authorization?.startsWith('Basic ')) return form.client_id ?? assertionIssuer(form.client_assertion);
  const id = Buffer.from(authorization.slice(6), 'base64').toString('utf8').split(':')[0];
  try {
    return decodeURIComponent(id);
  } catch {
    return id; // malformed: as sent
  }
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    throw invalidClient('Malformed HTTP Basic credentials', true);
  }
}

function assertionIssuer(assertion: string | undefined): string | undefined {
  try {
    return assertion ? decodeJwt(assertion).iss : undefined;
  } catch {
    return undefined; // malformed: refused when checked
  }
}
