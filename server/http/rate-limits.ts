import type { Request, RequestHandler, Response } from 'express';
import { ipKeyGenerator, rateLimit } from 'express-rate-limit';

const WINDOW_MS = 15 * 60_000;

/** The caller's address as a rate-limit key (an IPv6 address by its /56, which one holder usually has whole). */
export const addressKey = (req: Request) => ipKeyGenerator(req.ip ?? '');

/**
 * A limit of failed attempts per key in 15 minutes: past it, every attempt of that key is refused
 * with 429 and Retry-After until the window ends, right or wrong (a guess must not be tested).
 * Only failures count (`failed`, by default a status of 400 or more), so that who gets it right
 * is never held back. Counted in this process's memory, as the window is short.
 */
export function failureLimit(o: {
  limit: number;
  key: (req: Request) => string | undefined;
  refuse: (req: Request, res: Response) => void;
  failed?: (req: Request, res: Response) => boolean;
}): RequestHandler {
  return rateLimit({
    windowMs: WINDOW_MS,
    limit: o.limit,
    skip: (req) => o.key(req) === undefined,
    skipSuccessfulRequests: true,
    ...(o.failed ? { requestWasSuccessful: (req: Request, res: Response) => !o.failed?.(req, res) } : {}),
    standardHeaders: 'draft-8',
    legacyHeaders: false,
    keyGenerator: (req) => o.key(req) as string,
    handler: (req, res) => o.refuse(req, res),
  });
}
