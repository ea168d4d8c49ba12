import cors from 'cors';
import type { RequestHandler } from 'express';
import type { ClientRegistry } from '../auth/clients.js';

/** Discovery documents and public keys: any web page may read them. */
const OPEN = new Set(['/fhir/metadata', '/fhir/.well-known/smart-configuration', '/auth/jwks', '/auth/.well-known/openid-configuration']);

/**
 * CORS as SMART asks: open for discovery and the CapabilityStatement; for the token endpoint and
 * the API, only the origins of registered redirect URIs (browser apps). Pages and admin stay closed.
 */
export function corsPolicy(clients: ClientRegistry): RequestHandler {
  const open = cors({ maxAge: 600 });
  const registered = cors({
    origin: (origin, done) => {
      if (!origin) return done(null, false);
      clients.origins().then((origins) => done(null, origins.has(origin)), done);
    },
    exposedHeaders: ['Location', 'Content-Location', 'ETag', 'Last-Modified', 'X-Request-Id', 'WWW-Authenticate'],
    maxAge: 600,
  });
  return (req, res, next) => {
    if (OPEN.has(req.path)) return open(req, res, next);
    if (req.path.startsWith('/fhir') || ['/auth/token', '/auth/revoke', '/auth/introspect'].includes(req.path)) return registered(req, res, next);
    next();
  };
}
