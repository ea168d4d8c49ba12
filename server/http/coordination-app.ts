import { existsSync } from 'node:fs';
import { join } from 'node:path';
import express, { type Response } from 'express';
import { fail } from '../fhir/outcome.js';
import { PACKAGE_ROOT } from '../package-root.js';

/** Where `npm run build` puts the coordinators' app (app/vite.config.ts). */
export const APP_DIR = join(PACKAGE_ROOT, 'dist', 'app');

/**
 * /app/: the coordinators' SMART app, static files (its security headers: appHeaders). `/app/` and its launch URL `/app/launch` give
 * the page (never cached: it names the current bundles); the bundles under assets/ have hashed
 * names and are cached for a year.
 */
export function coordinationAppRouter(dir = APP_DIR): express.Router {
  const router = express.Router({ strict: true });
  const page = (_req: express.Request, res: Response) => {
    const index = join(dir, 'index.html');
    if (!existsSync(index)) throw fail(503, 'not-supported', 'The coordination app is not built: run npm run build');
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
        res.setHeader('Cache-Control', path.includes(`${join(dir, 'assets')}`) ? 'public, max-age=31536000, immutable' : 'no-cache');
      },
    }),
  );
  return router;
}
