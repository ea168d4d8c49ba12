import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { Database } from '../store/db.js';
import {
  anyRevoked,
  consumeCode,
  findRefreshToken,
  insertCode,
  insertGrant,
  insertRefreshToken,
  useRefreshToken,
  type GrantRow,
} from '../store/oauth-grants.js';
import type { OAuthClient } from './clients.js';
import type { Revocations } from './revocations.js';
import { parseResourceScope, scopesWithin, splitScope } from './scopes.js';
import { ACCESS_TOKEN_SECONDS, OAuthError, type LaunchContext, type TokenService } from './tokens.js';

const CODE_SECONDS = 60;
const OFFLINE_SECONDS = 90 * 86_400;
// online_access: refresh tokens for one working day, the length of a login at the practice.
const ONLINE_SECONDS = 12 * 3600;

/** What the user granted at /auth/authorize, kept with the grant: the launch context and who they are. */
export interface GrantContext extends LaunchContext {
  /** The user's Practitioner (`Practitioner/[id]`) and the PractitionerRole they act in. */
  fhirUser?: string;
  role?: string;
  /** When the user logged in (seconds), and the assurance level of that login (PSC: eidas1). */
  authTime?: number;
  acr?: string;
}

/** What the user granted, for a code: recorded by issueCode. */
export interface CodeRequest {
  clientId: string;
  userId: string;
  scope: string;
  context: GrantContext;
  redirectUri: string;
  codeChallenge: string;
  nonce?: string;
}

export interface TokenResponse extends LaunchContext {
  access_token: string;
  token_type: 'Bearer';
  expires_in: number;
  scope: string;
  refresh_token?: string;
  id_token?: string;
}

export const digest = (token: string) => createHash('sha256').update(token).digest('hex');
const newToken = () => randomBytes(32).toString('base64url');
const invalidGrant = (why: string) => new OAuthError(400, 'invalid_grant', why);
const PKCE_VERIFIER_RE = /^[A-Za-z0-9\-._~]{43,128}$/;

/**
 * The grants of the token endpoint once the client is authenticated: authorization_code (PKCE
 * S256), refresh_token (rotated at every use; a reused one revokes its whole grant),
 * client_credentials; and revocation. Codes and refresh tokens are stored as digests.
 */
export class GrantService {
  constructor(
    private readonly db: Database,
    private readonly tokens: TokenService,
    private readonly revocations: Revocations,
  ) {}

  /** Records what the user granted and returns a single-use code for it. */
  async issueCode(a: CodeRequest): Promise<string> {
    const scopes = splitScope(a.scope);
    // Without refresh tokens the grant lasts as long as its code's access token, for reuse detection.
    const lifetime = scopes.includes('offline_access')
      ? OFFLINE_SECONDS
      : scopes.includes('online_access')
        ? ONLINE_SECONDS
        : CODE_SECONDS + ACCESS_TOKEN_SECONDS;
    const code = newToken();
    await this.db.transaction(async (tx) => {
      const grantId = randomUUID();
      await insertGrant(tx, {
        id: grantId,
        clientId: a.clientId,
        userId: a.userId,
        scope: a.scope,
        context: a.context as Record<string, unknown>,
        expiresAt: inSeconds(lifetime),
      });
      await insertCode(tx, digest(code), {
        grantId,
        redirectUri: a.redirectUri,
        codeChallenge: a.codeChallenge,
        nonce: a.nonce ?? null,
        expiresAt: inSeconds(CODE_SECONDS),
      });
    });
    return code;
  }

  async token(client: OAuthClient, form: Record<string, string | undefined>): Promise<TokenResponse> {
    const grantType = form.grant_type ?? '';
    if (!['authorization_code', 'refresh_token', 'client_credentials'].includes(grantType)) {
      throw new OAuthError(400, 'unsupported_grant_type', `grant_type ${grantType || '(none)'} is not supported`);
    }
    if (!client.grantTypes.includes(grantType)) throw new OAuthError(400, 'unauthorized_client', `This client may not use ${grantType}`);
    if (grantType === 'authorization_code') return this.authorizationCode(client, form);
    if (grantType === 'refresh_token') return this.refresh(client, form);
    return this.clientCredentials(client, form.scope);
  }

  private async authorizationCode(client: OAuthClient, form: Record<string, string | undefined>): Promise<TokenResponse> {
    const { code, redirect_uri: redirectUri, code_verifier: verifier } = form;
    if (!code || !redirectUri || !verifier) throw new OAuthError(400, 'invalid_request', 'code, redirect_uri and code_verifier are required');
    const found = await consumeCode(this.db, digest(code));
    if (!found) throw invalidGrant('Unknown authorization code');
    if (found.reused) {
      // RFC 6749 §4.1.2: a code used twice may have been stolen; what it gave is withdrawn.
      await this.revokeGrant(found.grant);
      throw invalidGrant('This authorization code was already used; the tokens it gave are revoked');
    }
    if (found.grant.clientId !== client.id) throw invalidGrant('The code was issued to another client');
    if (found.expiresAt.getTime() < Date.now()) throw invalidGrant('The authorization code has expired');
    if (found.redirectUri !== redirectUri) throw invalidGrant('redirect_uri differs from that of the authorization request');
    if (!PKCE_VERIFIER_RE.test(verifier) || createHash('sha256').update(verifier).digest('base64url') !== found.codeChallenge) {
      throw invalidGrant('The PKCE code_verifier does not match the code_challenge');
    }
    return this.respond(client, found.grant, found.grant.scope, found.nonce ?? undefined);
  }

  private async refresh(client: OAuthClient, form: Record<string, string | undefined>): Promise<TokenResponse> {
    if (!form.refresh_token) throw new OAuthError(400, 'invalid_request', 'refresh_token is required');
    const hash = digest(form.refresh_token);
    const found = await findRefreshToken(this.db, hash);
    if (!found || found.grant.clientId !== client.id) throw invalidGrant('Unknown refresh token');
    const { grant } = found;
    // Asked of the database itself: a refresh must not slip through a fresh revocation elsewhere.
    if (await anyRevoked(this.db, [grant.id])) throw invalidGrant('The refresh token was revoked');
    const reused = async () => {
      // Rotation: each refresh token is good once; seeing one again means two parties hold it.
      await this.revokeGrant(grant);
      return invalidGrant('This refresh token was already used; every token of this grant is revoked');
    };
    if (found.used) throw await reused();
    let scope = grant.scope;
    if (form.scope?.trim()) {
      const requested = splitScope(form.scope);
      const granted = scopesWithin(requested, splitScope(grant.scope));
      if (granted.length < requested.length) {
        throw new OAuthError(400, 'invalid_scope', `Scopes beyond the original grant: ${requested.filter((s) => !granted.includes(s)).join(' ')}`);
      }
      scope = requested.join(' ');
    }
    if (!(await useRefreshToken(this.db, hash))) throw await reused();
    if (found.expiresAt.getTime() < Date.now()) throw invalidGrant('The refresh token has expired');
    return this.respond(client, grant, scope);
  }

  /** The client_credentials grant (SMART Backend Services): system scopes within the client's. */
  private async clientCredentials(client: OAuthClient, requestedScope: string | undefined): Promise<TokenResponse> {
    const allowed = splitScope(client.scope);
    let scope = allowed.filter((s) => parseResourceScope(s)).join(' ');
    if (requestedScope?.trim()) {
      const requested = splitScope(requestedScope);
      const granted = scopesWithin(requested, allowed).filter((s) => parseResourceScope(s)?.context !== 'patient' && parseResourceScope(s)?.context !== 'user');
      if (granted.length < requested.length) {
        throw new OAuthError(400, 'invalid_scope', `Scopes not allowed for this client: ${requested.filter((s) => !granted.includes(s)).join(' ')}`);
      }
      scope = granted.join(' ');
    }
    const accessToken = await this.tokens.signAccessToken({ clientId: client.id, subject: client.id, scope });
    return { access_token: accessToken, token_type: 'Bearer', expires_in: ACCESS_TOKEN_SECONDS, scope };
  }

  /** The token response of a user's grant: access token, launch context, id_token, a new refresh token. */
  private async respond(client: OAuthClient, grant: GrantRow, scope: string, nonce?: string): Promise<TokenResponse> {
    const ctx = grant.context as GrantContext;
    const scopes = splitScope(scope);
    const subject = grant.userId ?? client.id;
    const response: TokenResponse = {
      access_token: await this.tokens.signAccessToken({
        clientId: client.id,
        subject,
        scope,
        patient: ctx.patient,
        encounter: ctx.encounter,
        fhirUser: ctx.fhirUser,
        role: ctx.role,
        grantId: grant.id,
      }),
      token_type: 'Bearer',
      expires_in: ACCESS_TOKEN_SECONDS,
      scope,
      ...launchContext(ctx),
    };
    if (scopes.includes('openid')) {
      const withUser = scopes.includes('fhirUser') || scopes.includes('profile');
      response.id_token = await this.tokens.signIdToken({
        clientId: client.id,
        subject,
        fhirUser: withUser ? ctx.fhirUser : undefined,
        nonce,
        authTime: ctx.authTime,
        acr: ctx.acr,
      });
    }
    const grantScopes = splitScope(grant.scope);
    if ((grantScopes.includes('offline_access') || grantScopes.includes('online_access')) && client.grantTypes.includes('refresh_token')) {
      const refreshToken = newToken();
      await insertRefreshToken(this.db, digest(refreshToken), grant.id, grant.expiresAt);
      response.refresh_token = refreshToken;
    }
    return response;
  }

  /** Revokes a grant: its refresh tokens and every access token issued from it. */
  async revokeGrant(grant: GrantRow): Promise<void> {
    await this.revocations.revoke(grant.id, new Date(grant.expiresAt.getTime() + ACCESS_TOKEN_SECONDS * 1000));
  }

  /**
   * RFC 7009: revokes an access token (its jti) or a refresh token (its whole grant) of this
   * client. Anything else is ignored: the answer is the same, so it tells nothing.
   */
  async revokeToken(client: OAuthClient, token: string): Promise<void> {
    const access = await this.tokens.verify(token).catch(() => undefined);
    if (access) {
      if (access.clientId === client.id) await this.revocations.revoke(access.jti, new Date(access.exp * 1000));
      return;
    }
    const refresh = await findRefreshToken(this.db, digest(token));
    if (refresh && refresh.grant.clientId === client.id) await this.revokeGrant(refresh.grant);
  }
}

function launchContext(ctx: GrantContext): LaunchContext {
  const out: LaunchContext = {};
  if (ctx.patient) out.patient = ctx.patient;
  if (ctx.encounter) out.encounter = ctx.encounter;
  if (ctx.fhirContext?.length) out.fhirContext = ctx.fhirContext;
  if (ctx.need_patient_banner !== undefined) out.need_patient_banner = ctx.need_patient_banner;
  if (ctx.smart_style_url) out.smart_style_url = ctx.smart_style_url;
  return out;
}

const inSeconds = (s: number) => new Date(Date.now() + s * 1000);
