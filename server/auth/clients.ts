import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { JSONWebKeySet } from 'jose';
import type { Database } from '../store/db.js';
import { deleteClientMetadata, findClientMetadata, insertClientMetadata, listClientMetadata } from '../store/oauth-clients.js';
import { splitScope } from './scopes.js';

export type AuthMethod = 'none' | 'client_secret_basic' | 'client_secret_post' | 'private_key_jwt';

/** A registered OAuth client. Only a digest of its secret is kept. */
export interface OAuthClient {
  id: string;
  name: string;
  authMethod: AuthMethod;
  /** SHA-256 of the secret, hex (secrets are random and long: a plain digest is enough). */
  secretDigest?: string;
  redirectUris: string[];
  grantTypes: string[];
  /** The scopes the client may be granted. */
  scope: string;
  /** private_key_jwt: the client's public keys, inline or at a URL; `jku` may only name that URL. */
  jwks?: JSONWebKeySet;
  jwksUri?: string;
}

const GRANT_TYPES = new Set(['authorization_code', 'refresh_token', 'client_credentials']);
const AUTH_METHODS = new Set<AuthMethod>(['none', 'client_secret_basic', 'client_secret_post', 'private_key_jwt']);

export const secretDigest = (secret: string) => createHash('sha256').update(secret).digest('hex');

/** Redirect URIs must be absolute, without fragment, and https but on the loopback (RFC 8252). */
function checkRedirectUri(uri: string): void {
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    throw new Error(`redirect_uri is not an absolute URL: ${uri}`);
  }
  const loopback = ['localhost', '127.0.0.1', '[::1]'].includes(url.hostname);
  if (url.hash || (url.protocol !== 'https:' && !(url.protocol === 'http:' && loopback))) {
    throw new Error(`redirect_uri must be https (http only on the loopback) and have no fragment: ${uri}`);
  }
}

/**
 * A client from its registration (RFC 7591 names: client_id, client_name, redirect_uris,
 * grant_types, token_endpoint_auth_method, scope, jwks, jwks_uri, and client_secret_sha256).
 * Throws with the reason when the registration is incomplete or unsafe.
 */
export function clientFromMetadata(m: Record<string, unknown>): OAuthClient {
  const str = (k: string) => (typeof m[k] === 'string' && m[k] !== '' ? (m[k] as string) : undefined);
  const list = (k: string) => (Array.isArray(m[k]) && m[k].every((v) => typeof v === 'string') ? (m[k] as string[]) : undefined);
  const id = str('client_id');
  if (!id || !/^[\w.:-]{1,128}$/.test(id)) throw new Error('client_id is required (letters, digits, . _ : -)');
  const authMethod = (str('token_endpoint_auth_method') ?? 'client_secret_basic') as AuthMethod;
  if (!AUTH_METHODS.has(authMethod)) throw new Error(`token_endpoint_auth_method ${authMethod} is not supported`);
  const grantTypes = list('grant_types') ?? ['authorization_code', 'refresh_token'];
  const unknown = grantTypes.filter((g) => !GRANT_TYPES.has(g));
  if (unknown.length) throw new Error(`grant_types not supported: ${unknown.join(' ')}`);
  const redirectUris = list('redirect_uris') ?? [];
  redirectUris.forEach(checkRedirectUri);
  if (grantTypes.includes('authorization_code') && !redirectUris.length) throw new Error('authorization_code needs redirect_uris');
  if (grantTypes.includes('client_credentials') && authMethod === 'none') throw new Error('client_credentials needs a confidential client');
  const scope = str('scope');
  if (!scope) throw new Error('scope (the scopes the client may be granted) is required');
  const digest = str('client_secret_sha256');
  if (authMethod.startsWith('client_secret') && !/^[0-9a-f]{64}$/.test(digest ?? '')) {
    throw new Error('a client_secret client needs client_secret_sha256 (hex)');
  }
  const jwks = m.jwks as JSONWebKeySet | undefined;
  const jwksUri = str('jwks_uri');
  if (authMethod === 'private_key_jwt') {
    if (!jwksUri && !Array.isArray(jwks?.keys)) throw new Error('private_key_jwt needs jwks or jwks_uri');
    if (jwksUri && !jwksUri.startsWith('https://') && !/^http:\/\/(localhost|127\.0\.0\.1)[:/]/.test(jwksUri)) {
      throw new Error('jwks_uri must be https');
    }
  }
  return {
    id,
    name: str('client_name') ?? id,
    authMethod,
    ...(authMethod.startsWith('client_secret') ? { secretDigest: digest } : {}),
    redirectUris,
    grantTypes,
    scope: splitScope(scope).join(' '),
    ...(authMethod === 'private_key_jwt' && jwks ? { jwks } : {}),
    ...(authMethod === 'private_key_jwt' && jwksUri ? { jwksUri } : {}),
  };
}

/** The registration of a client as the admin API shows it (never a secret digest). */
export function clientMetadata(c: OAuthClient): Record<string, unknown> {
  return {
    client_id: c.id,
    client_name: c.name,
    token_endpoint_auth_method: c.authMethod,
    redirect_uris: c.redirectUris,
    grant_types: c.grantTypes,
    scope: c.scope,
    ...(c.jwks ? { jwks: c.jwks } : {}),
    ...(c.jwksUri ? { jwks_uri: c.jwksUri } : {}),
  };
}

/** The clients of a configuration file: a JSON array of registrations. */
export function readClientsFile(path: string): OAuthClient[] {
  const parsed = JSON.parse(readFileSync(path, 'utf8')) as unknown;
  if (!Array.isArray(parsed)) throw new Error(`${path} must hold a JSON array of client registrations`);
  return parsed.map((m, i) => {
    try {
      return clientFromMetadata(m as Record<string, unknown>);
    } catch (err) {
      throw new Error(`${path}, client ${i + 1}: ${(err as Error).message}`);
    }
  });
}

/**
 * Registered clients: the bootstrap backend client of the environment and those of the
 * configuration file (in memory, not changeable at run time), then those of the admin API (in
 * the database, seen at once by every process).
 */
export class ClientRegistry {
  private readonly fixed = new Map<string, OAuthClient>();
  private originsCache?: { at: number; origins: Set<string> };

  constructor(
    private readonly db: Database,
    config: { bootstrapClientId?: string; bootstrapClientSecret?: string },
    configured: OAuthClient[] = [],
  ) {
    for (const c of configured) this.fixed.set(c.id, c);
    if (config.bootstrapClientId && config.bootstrapClientSecret) {
      this.fixed.set(config.bootstrapClientId, {
        id: config.bootstrapClientId,
        name: config.bootstrapClientId,
        authMethod: 'client_secret_basic',
        secretDigest: secretDigest(config.bootstrapClientSecret),
        redirectUris: [],
        grantTypes: ['client_credentials'],
        scope: 'system/*.cruds admin',
      });
    }
  }

  async find(id: string): Promise<OAuthClient | undefined> {
    const fixed = this.fixed.get(id);
    if (fixed) return fixed;
    const stored = await findClientMetadata(this.db, id);
    return stored ? clientFromMetadata(stored) : undefined;
  }

  async list(): Promise<OAuthClient[]> {
    return [...this.fixed.values(), ...(await listClientMetadata(this.db)).map(clientFromMetadata)];
  }

  /** Registers a client from the admin API; a secret client gets a new secret, returned once. */
  async register(metadata: Record<string, unknown>): Promise<{ client: OAuthClient; secret?: string }> {
    const method = metadata.token_endpoint_auth_method ?? 'client_secret_basic';
    const secret = typeof method === 'string' && method.startsWith('client_secret') ? randomBytes(32).toString('base64url') : undefined;
    const client = clientFromMetadata({ ...metadata, ...(secret ? { client_secret_sha256: secretDigest(secret) } : {}) });
    if (
      this.fixed.has(client.id) ||
      !(await insertClientMetadata(this.db, client.id, { ...metadata, ...(secret ? { client_secret_sha256: client.secretDigest } : {}) }))
    ) {
      throw new Error(`client_id ${client.id} is already registered`);
    }
    this.originsCache = undefined;
    return { client, secret };
  }

  async remove(id: string): Promise<boolean> {
    this.originsCache = undefined;
    return deleteClientMetadata(this.db, id);
  }

  /** The origins of every redirect URI: the browser apps CORS lets call the token endpoint and the API. */
  async origins(): Promise<Set<string>> {
    // Kept a few seconds: a CORS preflight must not cost a query each time.
    if (this.originsCache && Date.now() - this.originsCache.at < 10_000) return this.originsCache.origins;
    const origins = new Set((await this.list()).flatMap((c) => c.redirectUris.map((u) => new URL(u).origin)));
    this.originsCache = { at: Date.now(), origins };
    return origins;
  }
}
