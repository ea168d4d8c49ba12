import { readFileSync } from 'node:fs';
import type { AccessRules } from './access/rules.js';
import { DEFAULT_MAX_JSON_DEPTH } from './fhir/json.js';
import { DEFAULT_FHIR_IGS, parseIgs, type IgSpec } from './packages/settings.js';
import { DEFAULT_LIMITS, LIMIT_SETTINGS, type RequestLimits } from './limits.js';

/** Settings from the environment, with the defaults of DESIGN.md. Read once at start. */
export interface Config {
  port: number;
  host: string;
  /** The public origin (BASE_URL), e.g. https://maillage.example: the FHIR base is under it (fhirBaseOf). */
  origin: string;
  databaseUrl?: string;
  databasePoolSize: number;
  dataDir: string;
  seed: 'demo' | 'none';
  /** `nos`: install the NOS code systems and value sets of terminology/ at start, where absent or older. */
  terminology: 'nos' | 'none';
  auth: boolean;
  bootstrapClientId?: string;
  bootstrapClientSecret?: string;
  /** A JSON file of OAuth client registrations. */
  clientsFile?: string;
  /** Whether users may log in with a local password (development, the demo). */
  passwordLogin: boolean;
  /** Failed password logins allowed per address and username in 15 minutes. */
  loginRateLimit: number;
  /** Failed password logins allowed per address, whatever the username, in 15 minutes. */
  loginAddressRateLimit: number;
  /** Failed client authentications allowed per client id, and per address, in 15 minutes. */
  clientAuthRateLimit: number;
  /**
   * The keys the token signing keys are encrypted under in the database (KEY_ENCRYPTION_KEY or
   * KEY_ENCRYPTION_KEY_FILE): the first encrypts, the others (older ones) still decrypt.
   */
  keyEncryptionKeys?: string[];
  /** Age in days after which the token signing key is replaced (the old one verifies a while longer). */
  keyRotationDays: number;
  /** The external OpenID Connect provider users log in with (Pro Santé Connect in production). */
  oidc?: OidcProviderConfig;
  logLevel: string;
  maxBodySize: string;
  /** How deep a JSON body may nest arrays and objects. */
  maxJsonDepth: number;
  /** The équipe-de-soins rules' configuration: record holders, system clients' organisations, break-glass duration. */
  accessRules: AccessRules;
  /** The organisation the bootstrap client acts for: `*` (the default), the whole pôle, as the operator's backend. */
  bootstrapClientOrganization: string;
  /** Whether INS on the test and demo OIDs are accepted (a test or demo configuration, never production). */
  testIdentities: boolean;
  /** Days the audit trail is kept; 0: without end. */
  auditRetentionDays: number;
  /** The SMTP relay email Subscriptions are sent through (SMTP_URL, e.g. smtps://user:pass@relay.example:465); none: email channels fail. */
  smtpUrl?: string;
  /** The sender of notification emails (MAIL_FROM). */
  mailFrom: string;
  /** How often a process looks for time events (TIME_EVENTS_SECONDS): Tasks past due, care plan activities falling due. */
  timeEventsSeconds: number;
  /** How many days ahead a care plan activity is announced as falling due (DUE_SOON_DAYS). */
  dueSoonDays: number;
  /**
   * Which proxies' X-Forwarded-For to believe (express's `trust proxy`: a number of hops, or
   * addresses and subnets such as `loopback`); false: none, the caller is the connection's peer.
   */
  trustProxy: boolean | number | string;
  /** Milliseconds a statement of a request may run before PostgreSQL cancels it (0: no bound). */
  statementTimeout: number;
  /** Milliseconds a statement of the server's own long work may run (migrations, seed, reindex, packages). */
  maintenanceStatementTimeout: number;
  /** Milliseconds a request waits for a database connection before a 503 (0: no bound). */
  connectionWait: number;
  /** What one request may ask for (limits.ts). */
  limits: RequestLimits;
  /** The FHIR implementation guides installed at start where the database does not hold them (FHIR_IGS). */
  fhirIgs: IgSpec[];
  /** Hours after which a Slot its publisher has not written again stops being offered (SLOT_REFRESH_HOURS; 0: never). */
  slotRefreshHours: number;
  /** Bulk data jobs ($export, $import): how long their files are kept, how often waiting jobs are looked for, whether this process runs them. */
  bulk: BulkSettings;
}

export interface BulkSettings {
  /** Seconds a finished job and its files are kept (BULK_RETENTION_SECONDS). */
  retentionSeconds: number;
  /** Milliseconds between two looks for waiting jobs (BULK_POLL_MS). */
  pollMs: number;
  /** Whether this process runs jobs (BULK_WORKER); every process answers statuses and serves files. */
  run: boolean;
  /** Jobs one client may have queued or running at once (BULK_JOBS_PER_CLIENT). */
  jobsPerClient: number;
}

export interface OidcProviderConfig {
  issuer: string;
  /** The discovery document's name under `issuer/.well-known/` (PSC: wallet-openid-configuration). */
  discovery: string;
  clientId: string;
  clientSecret: string;
  scope: string;
  acrValues?: string;
  /** The name on the login button. */
  name: string;
}

function oidcConfig(env: NodeJS.ProcessEnv): OidcProviderConfig | undefined {
  if (!env.OIDC_ISSUER) return undefined;
  return {
    issuer: env.OIDC_ISSUER.replace(/\/+$/, ''),
    discovery: env.OIDC_DISCOVERY ?? 'openid-configuration',
    clientId: env.OIDC_CLIENT_ID ?? '',
    clientSecret: env.OIDC_CLIENT_SECRET ?? '',
    scope: env.OIDC_SCOPE ?? 'openid scope_all',
    acrValues: env.OIDC_ACR_VALUES ?? 'eidas1',
    name: env.OIDC_NAME ?? 'Pro Santé Connect',
  };
}

/** `a=b,c=d` as an object. */
const pairs = (s: string | undefined) =>
  Object.fromEntries(
    (s ?? '')
      .split(',')
      .filter(Boolean)
      .map((p) => p.split('=').map((x) => x.trim())),
  );
const list = (s: string | undefined) =>
  (s ?? '')
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean);

/**
 * ACCESS_RULES_FILE (`{"recordHolders": ["msp-…"], "clientOrganizations": {"lgc-…": "msp-…"}}`),
 * then RECORD_HOLDERS and CLIENT_ORGANIZATIONS over it. With the demo and nothing configured,
 * the demo's MSP holds its patients' records and its hospital those of its stays.
 */
function accessRules(env: NodeJS.ProcessEnv, demo: boolean): AccessRules {
  const file = env.ACCESS_RULES_FILE ? (JSON.parse(readFileSync(env.ACCESS_RULES_FILE, 'utf8')) as Partial<AccessRules>) : {};
  const holders = env.RECORD_HOLDERS !== undefined ? list(env.RECORD_HOLDERS) : file.recordHolders;
  const clients: Record<string, string> = { ...file.clientOrganizations, ...pairs(env.CLIENT_ORGANIZATIONS) };
  return {
    // The demo's MSP for its enrolled patients, its hospital for the patients of its stays.
    recordHolders: holders ?? (demo ? ['msp-val-de-lys', 'ch-lysmont'] : []),
    clientOrganizations: clients,
    breakGlassMinutes: Number(env.BREAK_GLASS_MINUTES ?? 120),
  };
}

function trustProxy(value: string | undefined): Config['trustProxy'] {
  if (value === undefined || value === '' || value === 'false') return false;
  if (value === 'true') return true;
  return /^\d+$/.test(value) ? Number(value) : value;
}

/** KEY_ENCRYPTION_KEY, else the file KEY_ENCRYPTION_KEY_FILE: keys separated by commas or whitespace, the current one first. */
function keyEncryptionKeys(env: NodeJS.ProcessEnv): string[] | undefined {
  const text = env.KEY_ENCRYPTION_KEY || (env.KEY_ENCRYPTION_KEY_FILE ? readFileSync(env.KEY_ENCRYPTION_KEY_FILE, 'utf8') : '');
  const keys = text.split(/[\s,]+/).filter(Boolean);
  return keys.length ? keys : undefined;
}

/** A whole number setting; a wrong one stops the start (a NaN would silently lift a bound). */
function wholeNumber(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const value = Number(env[name] ?? fallback);
  if (!Number.isSafeInteger(value) || value < 0) throw new Error(`${name} must be a whole number: ${env[name]}`);
  return value;
}

/** Each request limit from its setting, else its default. */
function requestLimits(env: NodeJS.ProcessEnv): RequestLimits {
  const entries = Object.entries(LIMIT_SETTINGS) as [keyof RequestLimits, string][];
  return Object.fromEntries(entries.map(([key, name]) => [key, wholeNumber(env, name, DEFAULT_LIMITS[key])])) as unknown as RequestLimits;
}

/** The FHIR base under a public origin: what fullUrls, references and token audiences name. */
export const fhirBaseOf = (origin: string) => `${origin}/fhir`;

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const port = Number(env.PORT ?? 8080);
  // The demo is for the embedded database: a PostgreSQL deployment starts empty unless asked (SEED=demo).
  const demo = (env.SEED || (env.DATABASE_URL ? 'none' : 'demo')) === 'demo';
  return {
    port,
    host: env.HOST ?? '127.0.0.1',
    origin: (env.BASE_URL ?? `http://localhost:${port}`).replace(/\/+$/, ''),
    databaseUrl: env.DATABASE_URL || undefined,
    databasePoolSize: Number(env.DATABASE_POOL_SIZE ?? 10),
    dataDir: env.DATA_DIR ?? './data',
    seed: demo ? 'demo' : 'none',
    terminology: env.TERMINOLOGY === 'none' ? 'none' : 'nos',
    auth: env.AUTH !== 'off',
    bootstrapClientId: env.BOOTSTRAP_CLIENT_ID || undefined,
    bootstrapClientSecret: env.BOOTSTRAP_CLIENT_SECRET || undefined,
    clientsFile: env.CLIENTS_FILE || undefined,
    passwordLogin: env.PASSWORD_LOGIN !== 'off',
    loginRateLimit: Number(env.LOGIN_RATE_LIMIT ?? 10),
    loginAddressRateLimit: Number(env.LOGIN_ADDRESS_RATE_LIMIT ?? 30),
    clientAuthRateLimit: Number(env.CLIENT_AUTH_RATE_LIMIT ?? 20),
    keyRotationDays: Number(env.KEY_ROTATION_DAYS ?? 90),
    keyEncryptionKeys: keyEncryptionKeys(env),
    oidc: oidcConfig(env),
    logLevel: env.LOG_LEVEL ?? 'info',
    maxBodySize: env.MAX_BODY_SIZE ?? '64mb',
    maxJsonDepth: Number(env.MAX_JSON_DEPTH ?? DEFAULT_MAX_JSON_DEPTH),
    accessRules: accessRules(env, demo),
    bootstrapClientOrganization: env.BOOTSTRAP_CLIENT_ORGANIZATION || '*',
    testIdentities: env.INS_TEST_IDENTITIES ? env.INS_TEST_IDENTITIES === 'on' : demo,
    auditRetentionDays: Number(env.AUDIT_RETENTION_DAYS ?? 0),
    smtpUrl: env.SMTP_URL || undefined,
    mailFrom: env.MAIL_FROM || 'maillage@localhost',
    timeEventsSeconds: wholeNumber(env, 'TIME_EVENTS_SECONDS', 60),
    dueSoonDays: wholeNumber(env, 'DUE_SOON_DAYS', 7),
    trustProxy: trustProxy(env.TRUST_PROXY),
    statementTimeout: wholeNumber(env, 'STATEMENT_TIMEOUT', 30_000),
    maintenanceStatementTimeout: wholeNumber(env, 'MAINTENANCE_STATEMENT_TIMEOUT', 3_600_000),
    connectionWait: wholeNumber(env, 'DATABASE_CONNECTION_WAIT', 5_000),
    limits: requestLimits(env),
    slotRefreshHours: wholeNumber(env, 'SLOT_REFRESH_HOURS', 24),
    bulk: {
      retentionSeconds: wholeNumber(env, 'BULK_RETENTION_SECONDS', 86_400),
      pollMs: wholeNumber(env, 'BULK_POLL_MS', 2_000),
      run: env.BULK_WORKER !== 'off',
      jobsPerClient: wholeNumber(env, 'BULK_JOBS_PER_CLIENT', 3),
    },
    fhirIgs: parseIgs(env.FHIR_IGS ?? DEFAULT_FHIR_IGS),
  };
}

/** The équipe-de-soins rules in force: the configured ones, and the bootstrap client's organisation. */
export function accessRulesOf(config: Config): AccessRules {
  const { accessRules: rules, bootstrapClientId: id } = config;
  return id ? { ...rules, clientOrganizations: { ...rules.clientOrganizations, [id]: config.bootstrapClientOrganization } } : rules;
}
