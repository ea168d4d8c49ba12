import { existsSync } from 'node:fs';
import { join } from 'node:path';
import express, { type Response } from 'express';
import { fail } from '../fhir/outcome.js';
import { PACKAGE_ROOT } from '../package-root.js';

/** Where `npm run build` puts the coordinators' app (app/vite.config.ts). */
export const APP_DIR = join(PACKAGE_ROOT, 'dist', 'app');

// The app talks to this origin only; no inline script or style, no plugin, no foreign base.
const CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'";

function securityHeaders(res: Response): void {
  res.setHeader('Content-Security-Policy', CSP);
  res.setHeader('X-Content-Type-Options', 'nosniff');
  // The authorization code comes back in the page's URL: it must not leak to other sites.
  res.setHeader('Referrer-Policy', 'no-referrer');
}

/**
 * /app/: the coordinators' SMART app, static files. `/app/` and its launch URL `/app/launch` give
 * the page (never cached: it names the current bundles); the bundles under assets/ have hashed
 * names and are cached for a year.
 */
export function coordinationAppRouter(dir = APP_DIR): express.Router {
  const router = express.Router({ strict: true });
  const page = (_req: express.Request, res: Response) => {
    const index = join(dir, 'index.html');
    if (!existsSync(index)) throw fail(503, 'not-supported', 'The coordination app is not built: run npm run build');
    securityHeaders(res);
    res.setHeader('Cache-Control', 'no-cache');
    res.sendFile(index);
  };
  router.get('/', (req, res) => (req.originalUrl.startsWith('/app/') ? page(req, res) : res.redirect(301, '/app/')));
  router.get('/launch', page);
  router.use(
    express.static(dir, {
      index: false,
      redirect: false,
      setHeaders: (res, path) => {
        securityHeaders(res);
        res.setHeader('Cache-Control', path.includes(`${join(dir, 'assets')}`) ? 'public, max-age=31536000, immutable' : 'no-cache');
      },
    }),
  );
  return router;
}
