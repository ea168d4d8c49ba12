import * as oidc from 'openid-client';
import type { OidcProviderConfig } from '../config.js';

/** The IDNPS of a professional, as FR Core and the Annuaire Santé put it in Practitioner.identifier. */
export const IDNPS_SYSTEM = 'urn:oid:1.2.250.1.71.4.2.1';

/** Who the provider says logged in. */
export interface ExternalIdentity {
  /** The national identifier (IDNPS, PSC's SubjectNameID). */
  idnps: string;
  acr?: string;
  claims: Record<string, unknown>;
}

const LOOPBACK = /^http:\/\/(localhost|127\.0\.0\.1|\[::1\])[:/]/;

/**
 * Logins through an external OpenID Connect provider: Pro Santé Connect in production (its
 * discovery document has a non-standard name, it wants `acr_values=eidas1` and the scopes
 * `openid scope_all`), any provider with the same claims in tests. Authorization code flow with
 * PKCE S256, state and nonce; the id_token is checked by openid-client, and the acr too.
 */
export class OidcLogin {
  private configuration?: Promise<oidc.Configuration>;

  constructor(
    private readonly config: OidcProviderConfig,
    /** Our callback URL, registered at the provider. */
    readonly redirectUri: string,
  ) {}

  get name(): string {
    return this.config.name;
  }

  private discover(): Promise<oidc.Configuration> {
    this.configuration ??= (async () => {
      const insecure = LOOPBACK.test(this.config.issuer);
      const configuration = await oidc.discovery(
        new URL(`${this.config.issuer}/.well-known/${this.config.discovery}`),
        this.config.clientId,
        // The secret also verifies id_tokens signed HS256, which PSC may send.
        { client_secret: this.config.clientSecret },
        oidc.ClientSecretBasic(this.config.clientSecret),
        insecure ? { execute: [oidc.allowInsecureRequests] } : undefined,
      );
      // With the document's URL given, openid-client leaves the issuer to us.
      if (configuration.serverMetadata().issuer !== this.config.issuer) {
        throw new Error(`The discovery document names issuer ${configuration.serverMetadata().issuer}, not ${this.config.issuer}`);
      }
      return configuration;
    })().catch((err: unknown) => {
      this.configuration = undefined;
      throw err;
    });
    return this.configuration;
  }

  /** Where to send the user, and what the callback must find again. */
  async start(): Promise<{ url: string; checks: { state: string; nonce: string; verifier: string } }> {
    const configuration = await this.discover();
    const verifier = oidc.randomPKCECodeVerifier();
    const checks = { state: oidc.randomState(), nonce: oidc.randomNonce(), verifier };
    const params: Record<string, string> = {
      redirect_uri: this.redirectUri,
      scope: this.config.scope,
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state: checks.state,
      nonce: checks.nonce,
    };
    if (this.config.acrValues) params.acr_values = this.config.acrValues;
    return { url: oidc.buildAuthorizationUrl(configuration, params).href, checks };
  }

  /** Completes the login from the callback URL; throws when anything does not check out. */
  async finish(callbackUrl: URL, checks: { state: string; nonce: string; verifier: string }): Promise<ExternalIdentity> {
    const configuration = await this.discover();
    const tokens = await oidc.authorizationCodeGrant(configuration, callbackUrl, {
      pkceCodeVerifier: checks.verifier,
      expectedState: checks.state,
      expectedNonce: checks.nonce,
      idTokenExpected: true,
    });
    const idClaims = tokens.claims() as Record<string, unknown>;
    if (this.config.acrValues && idClaims.acr !== this.config.acrValues) {
      throw new Error(`The provider authenticated at level ${String(idClaims.acr)}, not ${this.config.acrValues}`);
    }
    const userinfo = (await oidc.fetchUserInfo(configuration, tokens.access_token, idClaims.sub as string)) as Record<string, unknown>;
    const claims = { ...idClaims, ...userinfo };
    const idnps = claims.SubjectNameID;
    if (typeof idnps !== 'string' || !idnps) throw new Error('The provider did not give the national identifier (SubjectNameID)');
    return { idnps, acr: typeof idClaims.acr === 'string' ? idClaims.acr : undefined, claims };
  }
}
