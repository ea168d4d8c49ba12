import type { Duplex } from 'node:stream';
import type { ErrorRequestHandler, Response } from 'express';
import type { OperationOutcome } from '@medplum/fhirtypes';
import { FhirError, outcome } from '../fhir/outcome.js';

export function sendOutcome(res: Response, status: number, body: OperationOutcome): void {
  res.status(status).setHeader('Content-Type', 'application/fhir+json; charset=utf-8');
  res.end(JSON.stringify(body));
}

/** Body-parser errors carry an HTTP status and a type; everything else unexpected is a 500. */
interface HttpError {
  status?: number;
  type?: string;
}

/**
 * The last middleware: every error becomes an OperationOutcome. Expected faults keep their
 * status; anything else is logged with its stack and answered 500 without internals.
 */
export const errorHandler: ErrorRequestHandler = (err, req, res, _next) => {
  void _next;
  if (res.headersSent) {
    res.end();
    return;
  }
  if (err instanceof FhirError) {
    // A busy, restarting or timed-out database: worth trying again soon.
    if (err.status === 503) res.setHeader('Retry-After', '2');
    sendOutcome(res, err.status, err.outcome);
    return;
  }
  const httpErr = err as HttpError;
  if (httpErr.type === 'entity.too.large') {
    sendOutcome(res, 413, outcome('error', 'too-costly', 'The request body is larger than this server accepts'));
    return;
  }
  if (httpErr.status && httpErr.status >= 400 && httpErr.status < 500) {
    sendOutcome(res, httpErr.status, outcome('error', 'invalid', (err as Error).message));
    return;
  }
  req.log.error({ err }, 'unexpected error');
  sendOutcome(res, 500, outcome('fatal', 'exception', `Internal error (request ${String(req.id)})`));
};

/**
 * What Node's HTTP parser refuses before express sees it (an unknown method, a malformed request
 * line or header, headers too large): an OperationOutcome too, where Node would send a bare 400.
 */
export function clientErrorHandler(err: Error & { code?: string }, socket: Duplex): void {
  if (err.code === 'ECONNRESET' || !socket.writable) {
    socket.destroy();
    return;
  }
  const [status, reason] = err.code === 'HPE_HEADER_OVERFLOW' ? [431, 'Request Header Fields Too Large'] : [400, 'Bad Request'];
  const body = JSON.stringify(outcome('error', 'structure', `The request is not well-formed HTTP (${err.code ?? 'parse error'})`));
  socket.end(
    `HTTP/1.1 ${status} ${reason}\r\nContent-Type: application/fhir+json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}
