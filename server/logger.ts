import { pino, type Logger } from 'pino';

/**
 * JSON lines for the log shippers; on a terminal (stdout a TTY), the same records pretty-printed
 * (pino-pretty, in pino's worker thread) for whoever reads them there.
 */
export function createLogger(level: string, pretty = process.stdout.isTTY === true): Logger {
  const options = { level, base: { service: 'maillage' } };
  if (!pretty) return pino(options);
  return pino({ ...options, transport: { target: 'pino-pretty', options: { translateTime: 'SYS:HH:MM:ss', ignore: 'pid,hostname,service' } } });
}
