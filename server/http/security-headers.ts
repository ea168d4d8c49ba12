import type { RequestHandler } from 'express';
import helmet from 'helmet';

/**
 * The security headers of every response (helmet): nosniff, no referrer, no framing, and a
 * Content-Security-Policy allowing nothing by default, as fits JSON and redirects. HSTS only
 * where the public origin is https (an http origin is the loopback, in development).
 * Cross-Origin-Opener-Policy is left out: a SMART app may run its authorization in a popup,
 * whose opener must stay reachable when it comes back to the app.
 */
function common(origin: string) {
  return {
    strictTransportSecurity: origin.startsWith('https:') ? { maxAge: 31_536_000, includeSubDomains: false } : (false as const),
    crossOriginOpenerPolicy: false,
    referrerPolicy: { policy: 'no-referrer' as const },
  };
}

/** Everything but the coordination app: the FHIR API, the authorization server (its pages set their own policy). */
export function apiHeaders(origin: string): RequestHandler {
  return helmet({
    ...common(origin),
    contentSecurityPolicy: { useDefaults: false, directives: { defaultSrc: ["'none'"], frameAncestors: ["'none'"], baseUri: ["'none'"] } },
    xFrameOptions: { action: 'deny' },
  }) as RequestHandler;
}

/**
 * The coordination app (/app/): its own origin only, no inline script or style, no plugin, no
 * foreign base; the authorization code comes back in its URL, so no referrer. A practice
 * software may show it in a frame (an EHR launch), so framing is not forbidden.
 */
export function appHeaders(origin: string): RequestHandler {
  return helmet({
    ...common(origin),
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'"],
        imgSrc: ["'self'", 'data:'],
        connectSrc: ["'self'"],
        objectSrc: ["'none'"],
        baseUri: ["'none'"],
        formAction: ["'self'"],
      },
    },
    xFrameOptions: false,
  }) as RequestHandler;
}
