import express, { type Request, type RequestHandler, type Response } from 'express';
import { ASSERTION_ALGS, claimedClientId } from '../auth/client-auth.js';
import { actorOf, loginRecord, type Actor } from '../audit/event.js';
import type { AuthServer } from '../auth/service.js';
import { OAuthError, type TokenService } from '../auth/tokens.js';
import { outcome } from '../fhir/outcome.js';
import type { AuditSink } from '../interactions/context.js';
import { sendOutcome } from './errors.js';
import { addressKey, failureLimit } from './rate-limits.js';

function sendOAuthError(res: Response, err: OAuthError): void {
  if (err.status === 401) res.setHeader('WWW-Authenticate', 'Basic realm="maillage"');
  res.status(err.status).json({ error: err.error, error_description: err.description });
}

const form = express.urlencoded({ extended: false, limit: '64kb' });
const formOf = (req: Request) => (req.body ?? {}) as Record<string, string | undefined>;
const credentials = (req: Request) => ({ authorization: req.get('authorization'), form: formOf(req) });

/** Traces an authentication, accepted or refused (see loginRecord). */
export function traceLogin(
  audit: AuditSink | undefined,
  req: Request,
  site: string,
  login: { how: string; status: number; actor: Actor; diagnostics?: string; started?: Date },
): void {
  const { how, status, actor, diagnostics, started = new Date() } = login;
  audit?.queue(loginRecord(actor, how, status, site, { started, ...(req.ip ? { address: req.ip } : {}), ...(diagnostics ? { diagnostics } : {}) }));
}

/** Runs an OAuth endpoint: never cached, and its faults answered as RFC 6749 errors. */
function oauthEndpoint(handle: (req: Request, res: Response) => Promise<void>): RequestHandler {
  return async (req, res) => {
    res.setHeader('Cache-Control', 'no-store');
    res.setHeader('Pragma', 'no-cache');
    try {
      if (!req.is('application/x-www-form-urlencoded')) {
        throw new OAuthError(400, 'invalid_request', 'The body must be application/x-www-form-urlencoded');
      }
      await handle(req, res);
    } catch (err) {
      if (!(err instanceof OAuthError)) throw err;
      sendOAuthError(res, err);
    }
  };
}

/**
 * /auth: token, introspection, revocation, public keys, OpenID Connect discovery.
 * `clientAuthAttempts`: failed client authentications allowed per client id, and per address, in 15 minutes.
 */
export function authRouter(auth: AuthServer, clientAuthAttempts: number, audit?: AuditSink): express.Router {
  const router = express.Router();
  const authenticate = async (req: Request, res: Response) => {
    try {
      return await auth.clientAuth.authenticate(credentials(req));
    } catch (err) {
      res.locals.clientAuthFailed = true;
      throw err;
    }
  };
  // Guessing a client's secret: only failed client authentications count, per client and per address.
  const tooMany = (_req: Request, res: Response) => {
    res.setHeader('Cache-Control', 'no-store');
    sendOAuthError(res, new OAuthError(429, 'temporarily_unavailable', 'Too many failed client authentications: try again later'));
  };
  const failed = (_req: Request, res: Response) => res.locals.clientAuthFailed === true;
  const limits = [
    failureLimit({ limit: clientAuthAttempts, key: (req) => claimedClientId(credentials(req)), refuse: tooMany, failed }),
    failureLimit({ limit: clientAuthAttempts, key: addressKey, refuse: tooMany, failed }),
  ];

  // Every token asked for is traced, given or refused, with the user it was for.
  router.post(
    '/token',
    form,
    ...limits,
    oauthEndpoint(async (req, res) => {
      const started = new Date();
      const how = formOf(req).grant_type || 'token';
      const trace = (status: number, actor: Actor, diagnostics?: string) => traceLogin(audit, req, auth.fhirBase, { how, status, actor, diagnostics, started });
      let clientId: string | undefined;
      try {
        const client = await authenticate(req, res);
        clientId = client.id;
        const body = await auth.grants.token(client, formOf(req));
        trace(200, actorOf(await auth.tokens.verify(body.access_token)));
        res.json(body);
      } catch (err) {
        if (err instanceof OAuthError) trace(err.status, { clientId: clientId ?? claimedClientId(credentials(req)) ?? '(none)' }, err.description);
        throw err;
      }
    }),
  );

  // RFC 7662. The caller proves itself with client credentials or a valid bearer token.
  router.post(
    '/introspect',
    form,
    ...limits,
    oauthEndpoint(async (req, res) => {
      const bearer = bearerToken(req);
      try {
        if (bearer) await auth.tokens.verify(bearer);
        else await authenticate(req, res);
      } catch (err) {
        // RFC 7662 §2.3: a caller that fails to authenticate gets 401.
        if (err instanceof OAuthError) throw new OAuthError(401, 'invalid_client', err.description);
        throw err;
      }
      const token = formOf(req).token;
      if (!token) throw new OAuthError(400, 'invalid_request', 'token is required');
      const claims = await auth.tokens.verifiedClaims(token).catch(() => undefined);
      if (!claims) {
        res.json({ active: false });
        return;
      }
      const { scope, client_id, sub, exp, iat, iss, aud, patient, encounter, fhirUser } = claims;
      res.json({ active: true, token_type: 'Bearer', scope, client_id, sub, exp, iat, iss, aud, patient, encounter, fhirUser });
    }),
  );

  // RFC 7009: the same answer whether or not the token was known.
  router.post(
    '/revoke',
    form,
    ...limits,
    oauthEndpoint(async (req, res) => {
      const client = await authenticate(req, res);
      const token = formOf(req).token;
      if (!token) throw new OAuthError(400, 'invalid_request', 'token is required');
      await auth.grants.revokeToken(client, token);
      res.status(200).end();
    }),
  );

  router.get('/jwks', (_req, res) => {
    res.json(auth.keys.jwks());
  });
  router.get('/.well-known/openid-configuration', (_req, res) => {
    res.json(openidConfiguration(auth));
  });
  return router;
}

function bearerToken(req: Request): string | undefined {
  const header = req.get('authorization');
  return header?.startsWith('Bearer ') ? header.slice(7).trim() : undefined;
}

/** Requires a valid bearer token; what it allows goes to res.locals.access for the FHIR layer. */
export function requireToken(tokens: TokenService): RequestHandler {
  return async (req, res, next) => {
    const token = bearerToken(req);
    try {
      if (!token) throw new OAuthError(401, 'invalid_request', 'This FHIR server needs an access token (Authorization: Bearer …)');
      res.locals.access = await tokens.verify(token);
      next();
    } catch (err) {
      if (!(err instanceof OAuthError)) throw err;
      const error = token ? ', error="invalid_token"' : '';
      res.setHeader('WWW-Authenticate', `Bearer realm="maillage"${error}`);
      sendOutcome(res, 401, outcome('error', 'login', err.description));
    }
  };
}

export const SCOPES_SUPPORTED = [
  'openid',
  'fhirUser',
  'launch',
  'launch/patient',
  'launch/encounter',
  'offline_access',
  'online_access',
  'patient/*.cruds',
  'patient/*.rs',
  'user/*.cruds',
  'user/*.rs',
  'system/*.cruds',
  'system/*.rs',
  'patient/*.read',
  'user/*.read',
  'system/*.read',
];

/** SMART App Launch 2.2 discovery: what this server really does. */
export function smartConfiguration(auth: AuthServer) {
  return {
    issuer: auth.issuer,
    jwks_uri: `${auth.issuer}/jwks`,
    authorization_endpoint: `${auth.issuer}/authorize`,
    token_endpoint: `${auth.issuer}/token`,
    introspection_endpoint: `${auth.issuer}/introspect`,
    revocation_endpoint: `${auth.issuer}/revoke`,
    grant_types_supported: ['authorization_code', 'refresh_token', 'client_credentials'],
    response_types_supported: ['code'],
    token_endpoint_auth_methods_supported: ['none', 'client_secret_basic', 'client_secret_post', 'private_key_jwt'],
    token_endpoint_auth_signing_alg_values_supported: ASSERTION_ALGS,
    scopes_supported: SCOPES_SUPPORTED,
    code_challenge_methods_supported: ['S256'],
    capabilities: [
      'launch-ehr',
      'launch-standalone',
      'authorize-post',
      'client-public',
      'client-confidential-symmetric',
      'client-confidential-asymmetric',
      'sso-openid-connect',
      'context-banner',
      'context-style',
      'context-ehr-patient',
      'context-ehr-encounter',
      'context-standalone-patient',
      'context-standalone-encounter',
      'permission-offline',
      'permission-online',
      'permission-patient',
      'permission-user',
      'permission-v1',
      'permission-v2',
    ],
  };
}

/** OpenID Connect discovery for the id_tokens we issue (iss = `${origin}/auth`). */
function openidConfiguration(auth: AuthServer) {
  return {
    issuer: auth.issuer,
    authorization_endpoint: `${auth.issuer}/authorize`,
    token_endpoint: `${auth.issuer}/token`,
    jwks_uri: `${auth.issuer}/jwks`,
    response_types_supported: ['code'],
    subject_types_supported: ['public'],
    id_token_signing_alg_values_supported: ['RS256'],
    scopes_supported: ['openid', 'fhirUser', 'profile', 'offline_access'],
    claims_supported: ['iss', 'sub', 'aud', 'exp', 'iat', 'auth_time', 'nonce', 'acr', 'fhirUser'],
    code_challenge_methods_supported: ['S256'],
    token_endpoint_auth_methods_supported: ['none', 'client_secret_basic', 'client_secret_post', 'private_key_jwt'],
  };
}
