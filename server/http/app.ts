import { randomUUID } from 'node:crypto';
import express from 'express';
import type { Logger } from 'pino';
import { pinoHttp } from 'pino-http';
import type { AuthServer } from '../auth/service.js';
import type { Config } from '../config.js';
import { fail } from '../fhir/outcome.js';
import type { ServerContext } from '../interactions/context.js';
import type { Database } from '../store/db.js';
import { LATEST_VERSION, schemaVersion } from '../store/migrate.js';
import { adminRouter } from './auth-admin.js';
import { authRouter, requireToken, smartConfiguration } from './auth.js';
import { authorizeRouter } from './authorize.js';
import { coordinationAppRouter } from './coordination-app.js';
import { corsPolicy } from './cors.js';
import { errorHandler } from './errors.js';
import { fhirRouter } from './fhir.js';
import { bulkRouter } from '../bulk/http.js';
import type { BulkWorker } from '../bulk/worker.js';
import { apiHeaders, appHeaders } from './security-headers.js';

export interface AppDeps {
  config: Config;
  db: Database;
  logger: Logger;
  /** Absent when AUTH=off. */
  auth?: AuthServer;
  /** This process's runner of bulk jobs, if it runs them. */
  bulk?: BulkWorker;
  /** What every FHIR request runs with (the same the server's own work runs with: server/main.ts). */
  fhir: ServerContext;
}

/**
 * A request's URL for the logs: its path and the names of its query parameters, not their values
 * (a search by name, birth date or INS would put health data in the logs, which the audit trail keeps).
 */
export function withoutValues(url: string): string {
  const at = url.indexOf('?');
  if (at < 0) return url;
  const names = [...new URLSearchParams(url.slice(at + 1)).keys()];
  return `${url.slice(0, at)}?${names.map((n) => `${n}=…`).join('&')}`;
}

export function createApp({ config, db, logger, auth, bulk, fhir }: AppDeps): express.Express {
  const { audit } = fhir;
  const app = express();
  app.disable('x-powered-by');
  app.disable('etag');
  // The caller's address (the audit trail, the login rate limit) as the configured proxies tell it.
  app.set('trust proxy', config.trustProxy);
  app.use(
    pinoHttp({
      logger,
      genReqId: (req, res) => {
        const given = req.headers['x-request-id'];
        const id = typeof given === 'string' && /^[\w.-]{1,128}$/.test(given) ? given : randomUUID();
        res.setHeader('X-Request-Id', id);
        return id;
      },
      // pino-http binds the request to a child logger on every request, whatever the level: a few
      // fields keep that cheap (bench/RESULTS.md), and keep tokens and cookies out of the logs.
      serializers: {
        req: (req: { id: unknown; method: string; url: string; remoteAddress?: string }) => ({
          id: req.id,
          method: req.method,
          url: withoutValues(req.url),
          remoteAddress: req.remoteAddress,
        }),
        res: (res: { statusCode: number }) => ({ statusCode: res.statusCode }),
      },
    }),
  );

  // The coordination app first, with its own policy; everything else gets the API's.
  app.use('/app', appHeaders(config.origin), coordinationAppRouter());
  app.use(apiHeaders(config.origin));

  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  app.get('/readyz', async (_req, res) => {
    try {
      const version = await schemaVersion(db);
      const ready = version === LATEST_VERSION;
      res.status(ready ? 200 : 503).json({ status: ready ? 'ready' : 'migrations pending', schemaVersion: version });
    } catch {
      res.status(503).json({ status: 'database unreachable' });
    }
  });

  if (auth) {
    app.use(corsPolicy(auth.clients));
    app.use('/auth', authRouter(auth, config.clientAuthRateLimit, audit));
    // The authorization pages look resources up through the FHIR layer, as a request would: what they show a user is traced.
    app.use('/auth', adminRouter({ auth, lookup: fhir }));
    app.use(
      '/auth',
      authorizeRouter({
        auth,
        lookup: fhir,
        passwordLogin: config.passwordLogin,
        loginAttempts: config.loginRateLimit,
        addressLoginAttempts: config.loginAddressRateLimit,
        audit,
      }),
    );
    app.get('/fhir/.well-known/smart-configuration', (_req, res) => {
      res.json(smartConfiguration(auth));
    });
    // The CapabilityStatement stays public, as SMART asks; everything else under /fhir needs a token.
    app.use('/fhir', (req, res, next) => (req.path === '/metadata' && req.method === 'GET' ? next() : requireToken(auth.tokens)(req, res, next)));
  }
  app.use('/app', coordinationAppRouter());
  app.use(
    '/fhir',
    bulkRouter({
      db,
      fhirBase: fhir.fhirBase,
      authEnabled: !!auth,
      rules: fhir.rules,
      testIdentities: config.testIdentities,
      maxJsonDepth: config.maxJsonDepth,
      maxBodySize: config.maxBodySize,
      worker: bulk,
      retryAfter: Math.max(1, Math.ceil(config.bulk.pollMs / 1000)),
      jobsPerClient: config.bulk.jobsPerClient,
    }),
  );
  app.use('/fhir', fhirRouter(fhir, config.maxBodySize));
  app.use((req) => {
    throw fail(404, 'not-found', `Nothing at ${req.path}`);
  });
  app.use(errorHandler);
  return app;
}
