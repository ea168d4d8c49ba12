import { mkdirSync } from 'node:fs';
import { createTransport } from 'nodemailer';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { keyEncryptionFor } from './auth/key-encryption.js';
import { createAuthServer, type AuthServer } from './auth/service.js';
import { UserService } from './auth/users.js';
import { accessRulesOf, fhirBaseOf, type Config } from './config.js';
import type { ServerContext } from './interactions/context.js';
import { createApp } from './http/app.js';
import { clientErrorHandler } from './http/errors.js';
import { AuditLog } from './audit/log.js';
import { BulkWorker } from './bulk/worker.js';
import { createLogger } from './logger.js';
import { setRequestLimits } from './limits.js';
import { openPglite, openPostgres, type Database } from './store/db.js';
import { lockDataDir } from './store/data-dir-lock.js';
import { migrate } from './store/migrate.js';
import { installIgs } from './packages/igs.js';
import { loadProfiles } from './packages/profiles.js';
import { packageSources } from './packages/settings.js';
import { installBundledTerminology } from './operations/terminology-install.js';
import { loadBaseDefinitions } from './validation/registry.js';
import { startFeed } from './events/feed.js';
import { startSubscriptions } from './events/service.js';
import { startTopicChores } from './events/topic-chores.js';
import { attachWebsockets } from './events/websocket.js';
import { dispatch } from './routes.js';
import { syncRegistry } from './validation/registry-sync.js';

/**
 * The configured database. The commands (migrate, seed, reindex, …) are the server's own long
 * work: their statements get the maintenance timeout; the server's requests, `statementTimeout`.
 */
export async function openDatabase(config: Config, statementTimeout = config.maintenanceStatementTimeout): Promise<Database> {
  if (config.databaseUrl) {
    return openPostgres(config.databaseUrl, config.databasePoolSize, {
      statementTimeout,
      maintenanceTimeout: config.maintenanceStatementTimeout,
      connectionWait: config.connectionWait,
    });
  }
  if (config.dataDir.startsWith('memory://')) return openPglite(config.dataDir);
  mkdirSync(config.dataDir, { recursive: true });
  // One process at a time on the embedded database (a command beside a running server would lose its writes).
  const unlock = lockDataDir(config.dataDir);
  const db = await openPglite(config.dataDir).catch((err: unknown) => {
    unlock();
    throw err;
  });
  const close = db.close;
  db.close = () => close().finally(unlock);
  return db;
}

/** A demo user's login, to show once. */
export interface DemoCredential {
  username: string;
  password: string;
  role: string;
}

/** The demo pôle that SEED=demo loads at start: the program that starts the server gives it (cli/maillage.ts, the seed's). */
export interface Demo {
  /** Writes the demo into the database when it holds no resource yet; returns how many resources were written. */
  loadIfEmpty(db: Database, origin: string, log: Logger): Promise<number>;
  /** Gives the demo's professionals logins with new passwords. */
  resetLogins(users: UserService): Promise<DemoCredential[]>;
}

export interface RunningServer {
  url: string;
  server: Server;
  db: Database;
  logger: Logger;
  /** The demo users' logins, when this start loaded the demo pôle with authorization on: to show once. */
  demoLogins?: DemoCredential[];
  /** Stops accepting connections, lets in-flight requests finish, then closes the database. */
  close(): Promise<void>;
}

/** What the program starting the server hands it: the demo pôle to load with SEED=demo, and the database when it opened one itself (the tests open theirs from a snapshot; it is closed with the server). */
export interface StartOptions {
  demo?: Demo;
  database?: Database;
}

export async function startServer(
  config: Config,
  logger: Logger = createLogger(config.logLevel),
  { demo, database }: StartOptions = {},
): Promise<RunningServer> {
  if (!config.auth) {
    logger.warn('AUTH=off: the FHIR API is open to anyone who can reach it. Use this for local development only.');
  }
  // Before anything is written: a server that could not keep its signing keys safe does not start.
  const keyEncryption = config.auth ? keyEncryptionFor(config, logger) : undefined;
  if (config.seed === 'demo' && !demo) throw new Error('SEED=demo, but this program gives the server no demo pôle to load');
  loadBaseDefinitions();
  setRequestLimits(config.limits);
  const db = database ?? (await openDatabase(config, config.statementTimeout));
  // Starting is the server's own long work: migrations, the demo, terminology and profiles.
  const long = db.maintenance();
  const applied = await migrate(long);
  if (applied.length) logger.info({ applied }, 'database migrated');
  let demoLogins: DemoCredential[] | undefined;
  if (config.seed === 'demo' && demo) {
    const started = Date.now();
    const seeded = await demo.loadIfEmpty(long, config.origin, logger);
    if (seeded) logger.info({ resources: seeded, ms: Date.now() - started }, 'loaded the demo pôle de santé (Val-de-Lys)');
    if (seeded && config.auth) demoLogins = await demo.resetLogins(new UserService(db));
  }
  // After the demo, which loads only into an empty database.
  if (config.terminology === 'nos') await installBundledTerminology(long, config.origin, logger);

  await loadProfiles(db, fhirBaseOf(config.origin), logger);
  // Heard from here on: what other processes write to the cached types is in force here at once
  // (until then, the caches looked at the database as they do without a feed).
  const feed = await startFeed(db, logger);
  // After Maillage's profiles: a guide that cannot be installed leaves the server starting without it.
  await installIgs(long, fhirBaseOf(config.origin), logger, config.fhirIgs, packageSources());
  if (config.fhirIgs.length) await syncRegistry(db);
  // A signing key it cannot decrypt stops the start: the database is let go.
  const auth: AuthServer | undefined = keyEncryption
    ? await createAuthServer(config, db, logger, keyEncryption).catch(async (err: unknown) => {
        await feed.close();
        await db.close();
        throw err;
      })
    : undefined;
  const audit = config.auth ? new AuditLog({ db, log: logger }, config.auditRetentionDays) : undefined;
  // The server's own long work: an export's statements may run longer than a request's.
  const bulk = new BulkWorker(db.maintenance(), fhirBaseOf(config.origin), logger, config.bulk).start();
  const heardEverywhere = () => feed.barrier();
  // What every FHIR request runs with, and the server's own work (notifications) with it.
  const fhir: ServerContext = {
    db,
    origin: config.origin,
    fhirBase: fhirBaseOf(config.origin),
    authEnabled: config.auth,
    rules: accessRulesOf(config),
    testIdentities: config.testIdentities,
    maxJsonDepth: config.maxJsonDepth,
    slotRefresh: config.slotRefreshHours * 3_600_000 || undefined,
    audit,
    heardEverywhere,
  };
  const app = createApp({ config, db, logger, auth, bulk, fhir });
  // Notifications are searched as their subscriber, through the same dispatch as the API's requests.
  const subscriptions = startSubscriptions(
    db,
    feed,
    {
      dispatch,
      base: fhir,
      log: logger,
      ...(config.smtpUrl ? { mail: { transport: createTransport(config.smtpUrl), from: config.mailFrom } } : {}),
    },
    logger,
  );
  const topicChores = startTopicChores(
    { db, fhirBase: fhirBaseOf(config.origin), log: logger, timeEventsSeconds: config.timeEventsSeconds, dueSoonDays: config.dueSoonDays },
    feed,
  );
  const server = await new Promise<Server>((resolve, reject) => {
    const s = app.listen(config.port, config.host, () => resolve(s));
    s.on('error', reject);
  });
  // Longer than the idle timeout of the usual load balancers (60 s), so that the server never closes
  // a kept-alive connection just as a client or proxy sends a request on it.
  server.on('clientError', clientErrorHandler);
  const sockets = attachWebsockets(server, db, feed, config.auth, fhirBaseOf(config.origin));
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;
  const { port } = server.address() as AddressInfo;
  const url = `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${port}`;
  logger.info({ url, database: db.kind }, 'Maillage FHIR server listening');

  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= (async () => {
      // Upgraded sockets are the server's no more: closed here, or closing would wait for them.
      sockets.close();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      });
      auth?.stop();
      await bulk.close();
      await subscriptions.close();
      await topicChores.close();
      await audit?.close();
      await feed.close();
      await db.close();
    })());
  return { url, server, db, logger, close, ...(demoLogins ? { demoLogins } : {}) };
}
