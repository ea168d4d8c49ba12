import express, { type Request, type Response } from 'express';
import { badRequest, fail } from '../fhir/outcome.js';
import type { FhirRequest, ServerContext } from '../interactions/context.js';
import { applyPrefer, parsePrefer } from '../interactions/prefer.js';
import { dispatch } from '../routes.js';
import { mediaType, negotiate, parseBody } from './content.js';
import { sendFhir } from './respond.js';

const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE']);

function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw badRequest(`Malformed URL segment: ${segment}`);
  }
}

/** Turns an HTTP request under /fhir into a FhirRequest. */
function toFhirRequest(req: Request, query: URLSearchParams, maxJsonDepth: number | undefined): FhirRequest {
  const path = req.path
    .split('/')
    .filter((s) => s !== '')
    .map(decodeSegment);
  const header = (name: string) => req.get(name) ?? undefined;
  const contentType = mediaType(header('content-type'));
  const hasBody = Buffer.isBuffer(req.body) && req.body.length > 0;
  return {
    method: req.method as FhirRequest['method'],
    path,
    query,
    ifMatch: header('if-match'),
    ifNoneMatch: header('if-none-match'),
    ifModifiedSince: header('if-modified-since'),
    ifNoneExist: header('if-none-exist'),
    prefer: parsePrefer(header('prefer')),
    contentType,
    // $validate reports a body's structural faults in its answer (with the rest), not as a 400.
    body: hasBody ? parseBody(contentType, req.body as Buffer, maxJsonDepth, path.at(-1) !== '$validate') : undefined,
  };
}

/** The /fhir endpoint: content negotiation, then the interaction router. */
export function fhirRouter(ctx: ServerContext, maxBodySize: string): express.Router {
  const router = express.Router();
  router.use(express.raw({ type: () => true, limit: maxBodySize }));
  router.use(async (req: Request, res: Response) => {
    const query = new URLSearchParams(req.originalUrl.split('?')[1] ?? '');
    const contentType = negotiate(query.get('_format'), req.get('accept'));
    if (!METHODS.has(req.method)) throw fail(405, 'not-supported', `${req.method} is not an HTTP method of FHIR`);
    const fhirReq = toFhirRequest(req, query, ctx.maxJsonDepth);
    // A client gone before its answer: the statements run for it are cancelled on the database.
    const abandoned = new AbortController();
    res.on('close', () => {
      if (!res.writableFinished) abandoned.abort();
    });
    const fhirCtx = { ...ctx, db: ctx.db.cancelledBy(abandoned.signal), log: req.log, access: res.locals.access, address: req.ip };
    const fhirRes = applyPrefer(fhirReq, await dispatch(fhirCtx, fhirReq));
    sendFhir(res, fhirRes, { contentType, pretty: query.get('_pretty') === 'true', head: req.method === 'HEAD' });
  });
  return router;
}
