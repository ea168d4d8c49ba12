import { fail, FhirError } from '../fhir/outcome.js';

/** SQLSTATE classes 08 (connection exception) and 57P (the server shutting down, restarting, not yet up). */
const LOST_CODES = /^(08|57P)/;
const LOST_ERRNOS = new Set(['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENOTFOUND']);
const LOST_MESSAGES = /Connection terminated|not queryable|timeout exceeded when trying to connect|Client was closed/;

/** Whether an error means the connection is gone (or never came): the client is not to be reused. */
export function isConnectionFault(err: unknown): boolean {
  const e = err as { code?: string; message?: string } | undefined;
  if (!e) return false;
  return (typeof e.code === 'string' && (LOST_CODES.test(e.code) || LOST_ERRNOS.has(e.code))) || LOST_MESSAGES.test(e.message ?? '');
}

/**
 * A fault of the database as the HTTP answer it calls for: a statement cancelled by the timeout,
 * a connection lost or not to be had in time are 503s (with Retry-After, see http/errors.ts),
 * never a 500. Other errors are returned as they are.
 */
export function asServiceFault(err: unknown, timeout: number, signal: AbortSignal | undefined): unknown {
  if (err instanceof FhirError) return err;
  const code = (err as { code?: string }).code;
  if (code === '57014') {
    if (signal?.aborted) return fail(503, 'transient', 'The request was abandoned by its client');
    return fail(503, 'timeout', `A statement ran longer than ${timeout} ms (setting STATEMENT_TIMEOUT) and was cancelled; narrow the request`);
  }
  if ((err as Error).name === 'AbortError') return fail(503, 'transient', 'The request was abandoned by its client');
  if ((err as Error).message?.includes('timeout exceeded when trying to connect')) {
    return fail(503, 'transient', 'Every database connection is busy (setting DATABASE_CONNECTION_WAIT); try again shortly');
  }
  if (isConnectionFault(err)) return fail(503, 'transient', 'The database is unavailable; try again shortly');
  return err;
}
