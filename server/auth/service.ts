import type { Logger } from 'pino';
import { fhirBaseOf, type Config } from '../config.js';
import type { Database } from '../store/db.js';
import { deleteExpired } from '../store/oauth-state.js';
import { ClientAuthenticator } from './client-auth.js';
import { ClientRegistry, readClientsFile } from './clients.js';
import { coordinationClient } from './coordination-client.js';
import { GrantService } from './grants.js';
import type { KeyEncryption } from './key-encryption.js';
import { KeyStore } from './keys.js';
import { LaunchService } from './launch.js';
import { OidcLogin } from './oidc-login.js';
import { Revocations } from './revocations.js';
import { LoginSessions } from './sessions.js';
import { TokenService } from './tokens.js';
import { UserService } from './users.js';

/** The authorization server's parts, built once per process. */
export interface AuthServer {
  /** Our origin, the issuer (`/auth` under it) and the FHIR base (the audience of our tokens). */
  origin: string;
  issuer: string;
  fhirBase: string;
  keys: KeyStore;
  tokens: TokenService;
  clients: ClientRegistry;
  clientAuth: ClientAuthenticator;
  grants: GrantService;
  users: UserService;
  sessions: LoginSessions;
  launches: LaunchService;
  /** Logins through the external OpenID Connect provider, when one is configured. */
  oidc?: OidcLogin;
  /** Stops the periodic upkeep (key rotation, deletion of what has expired). */
  stop(): void;
}

const UPKEEP_MS = 15 * 60_000;

/** `keyEncryption`: what the signing keys are encrypted under in the database (keyEncryptionFor). */
export async function createAuthServer(config: Config, db: Database, logger: Logger, keyEncryption: KeyEncryption): Promise<AuthServer> {
  const origin = config.origin;
  const issuer = `${origin}/auth`;
  const fhirBase = fhirBaseOf(origin);
  const keys = new KeyStore(db, keyEncryption);
  await keys.init();
  await keys.rotate(config.keyRotationDays);
  // The coordination app first: a registration of the same id in CLIENTS_FILE replaces it.
  const app = coordinationClient(origin);
  if (!app) logger.warn({ origin }, 'The coordination app at /app/ needs an https BASE_URL (http only on the loopback): it is not registered.');
  const clients = new ClientRegistry(db, config, [...(app ? [app] : []), ...(config.clientsFile ? readClientsFile(config.clientsFile) : [])]);
  if (!config.bootstrapClientId && !config.clientsFile) {
    logger.warn(
      'AUTH is on and no backend client is configured: set BOOTSTRAP_CLIENT_ID and BOOTSTRAP_CLIENT_SECRET, or CLIENTS_FILE, to get tokens without a user.',
    );
  }
  const revocations = new Revocations(db);
  const tokens = new TokenService(keys, revocations, issuer, fhirBase);
  const upkeep = setInterval(() => {
    void (async () => {
      await keys.rotate(config.keyRotationDays);
      await deleteExpired(db);
    })().catch((err: unknown) => logger.error({ err }, 'authorization server upkeep failed'));
  }, UPKEEP_MS);
  upkeep.unref();
  return {
    origin,
    issuer,
    fhirBase,
    keys,
    tokens,
    clients,
    clientAuth: new ClientAuthenticator(clients, db, `${issuer}/token`),
    grants: new GrantService(db, tokens, revocations),
    users: new UserService(db),
    sessions: new LoginSessions(db),
    launches: new LaunchService(db),
    ...(config.oidc ? { oidc: new OidcLogin(config.oidc, `${issuer}/oidc/callback`) } : {}),
    stop: () => clearInterval(upkeep),
  };
}
