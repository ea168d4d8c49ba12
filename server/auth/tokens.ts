import { randomUUID } from 'node:crypto';
import { decodeProtectedHeader, jwtVerify, SignJWT, type JWTPayload } from 'jose';
import type { KeyStore } from './keys.js';
import type { Revocations } from './revocations.js';
import { parseResourceScopes, type ResourceScope } from './scopes.js';

export const ACCESS_TOKEN_SECONDS = 3600;

/** An OAuth 2.0 error response (RFC 6749 §5.2). */
export class OAuthError extends Error {
  constructor(
    readonly status: number,
    readonly error: string,
    readonly description: string,
  ) {
    super(description);
  }
}

/** The launch context a token carries, as SMART names it in the token response. */
export interface LaunchContext {
  patient?: string;
  encounter?: string;
  fhirContext?: { reference?: string; role?: string; type?: string }[];
  need_patient_banner?: boolean;
  smart_style_url?: string;
}

/** What a verified access token allows. */
export interface Access {
  clientId: string;
  subject: string;
  scope: string;
  scopes: ResourceScope[];
  /** The patient in context: what `patient/` scopes are confined to. */
  patient?: string;
  /** `Practitioner/[id]` of the user, and the PractitionerRole they act in. */
  fhirUser?: string;
  role?: string;
  jti: string;
  /** The grant the token comes from (absent for client_credentials); revoking it revokes the token. */
  grantId?: string;
  exp: number;
}

export interface AccessClaims {
  clientId: string;
  subject: string;
  scope: string;
  patient?: string;
  encounter?: string;
  fhirUser?: string;
  role?: string;
  grantId?: string;
}

/**
 * Signs and verifies our JWTs (RS256, keys in the database): access tokens whose audience is
 * our FHIR base, and OpenID Connect id_tokens for the client. Revocation is checked at every
 * verification (within a second for a revocation made by another process).
 */
/** How many verified tokens are kept (the oldest goes first). */
const VERIFIED_TOKENS = 10_000;

export class TokenService {
  /**
   * Tokens whose signature, issuer, audience and type were verified, kept until they expire: an
   * RS256 verification costs about 0.2 ms of CPU, and a client sends its token many times.
   * Revocation is still checked at every use. The Access is kept with them: its scopes are
   * parsed once.
   */
  private readonly verified = new Map<string, { payload: JWTPayload; access: Access }>();

  constructor(
    private readonly keys: KeyStore,
    private readonly revocations: Revocations,
    readonly issuer: string,
    readonly audience: string,
  ) {}

  async signAccessToken(c: AccessClaims): Promise<string> {
    const claims = defined({
      scope: c.scope,
      client_id: c.clientId,
      patient: c.patient,
      encounter: c.encounter,
      fhirUser: c.fhirUser,
      role: c.role,
      gid: c.grantId,
      jti: randomUUID(),
    });
    return this.sign(claims, 'at+jwt', this.audience, c.subject);
  }

  /** An OpenID Connect id_token for the client (aud), with the SMART fhirUser claim. */
  async signIdToken(c: { clientId: string; subject: string; fhirUser?: string; nonce?: string; authTime?: number; acr?: string }): Promise<string> {
    const claims = defined({ fhirUser: c.fhirUser, nonce: c.nonce, auth_time: c.authTime, acr: c.acr });
    return this.sign(claims, 'JWT', c.clientId, c.subject);
  }

  private sign(claims: JWTPayload, typ: string, audience: string, subject: string): Promise<string> {
    const { kid, key, alg } = this.keys.signingKey();
    return new SignJWT(claims)
      .setProtectedHeader({ alg, kid, typ })
      .setIssuer(this.issuer)
      .setAudience(audience)
      .setSubject(subject)
      .setIssuedAt()
      .setExpirationTime(`${ACCESS_TOKEN_SECONDS}s`)
      .sign(key);
  }

  /** Verifies signature (RS256 only), issuer, audience, expiry and revocation; throws on any fault. */
  async verify(token: string): Promise<Access> {
    return (await this.verifiedToken(token)).access;
  }

  /** The claims of a valid, unrevoked access token (what introspection tells). */
  async verifiedClaims(token: string): Promise<JWTPayload> {
    return (await this.verifiedToken(token)).payload;
  }

  private async verifiedToken(token: string): Promise<{ payload: JWTPayload; access: Access }> {
    let hit = this.verified.get(token);
    if (!hit || (hit.payload.exp as number) * 1000 <= Date.now()) {
      this.verified.delete(token);
      const payload = await this.verifySignature(token);
      hit = { payload, access: toAccess(payload) };
      if (this.verified.size >= VERIFIED_TOKENS) this.verified.delete(this.verified.keys().next().value as string);
      this.verified.set(token, hit);
    }
    const ids = [hit.access.jti, ...(hit.access.grantId ? [hit.access.grantId] : [])];
    if (await this.revocations.anyRevoked(ids)) throw new OAuthError(401, 'invalid_token', 'The access token was revoked');
    return hit;
  }

  private async verifySignature(token: string): Promise<JWTPayload> {
    let kid: string | undefined;
    try {
      kid = decodeProtectedHeader(token).kid;
    } catch {
      throw new OAuthError(401, 'invalid_token', 'Malformed access token');
    }
    const key = await this.keys.verificationKey(kid);
    if (!key) throw new OAuthError(401, 'invalid_token', 'Access token signed with an unknown key');
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, key, {
        issuer: this.issuer,
        audience: this.audience,
        algorithms: ['RS256'],
        typ: 'at+jwt',
        requiredClaims: ['jti', 'exp', 'sub'],
      }));
    } catch (err) {
      throw new OAuthError(401, 'invalid_token', `Invalid access token: ${(err as Error).message}`);
    }
    return payload;
  }
}

/** The claims that have a value. */
const defined = (claims: JWTPayload): JWTPayload => Object.fromEntries(Object.entries(claims).filter(([, v]) => v !== undefined && v !== ''));

function toAccess(p: JWTPayload): Access {
  const str = (v: unknown) => (typeof v === 'string' ? v : undefined);
  const scope = str(p.scope) ?? '';
  return {
    clientId: str(p.client_id) ?? '',
    subject: p.sub as string,
    scope,
    scopes: parseResourceScopes(scope),
    patient: str(p.patient),
    fhirUser: str(p.fhirUser),
    role: str(p.role),
    jti: p.jti as string,
    grantId: str(p.gid),
    exp: p.exp as number,
  };
}
