import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Received {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}

/**
 * A real HTTP receiver for rest-hook notifications, on the loopback: records what it receives,
 * answers 200 (after `delayMs`), or 503 while `failNext` is above zero.
 */
export async function startReceiver() {
  const received: Received[] = [];
  const state = { failNext: 0, failed: 0, delayMs: 0 };
  const server: Server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c) => (body += c));
    req.on('end', async () => {
      if (state.delayMs) await new Promise((r) => setTimeout(r, state.delayMs));
      if (state.failNext > 0) {
        state.failNext--;
        state.failed++;
        res.writeHead(503).end();
        return;
      }
      received.push({ method: req.method as string, url: req.url as string, headers: req.headers, body });
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    received,
    state,
    /** Waits until `n` notifications arrived (or fails after `ms`). */
    async waitFor(n: number, ms = 8000) {
      const start = Date.now();
      while (received.length < n) {
        if (Date.now() - start > ms) throw new Error(`received ${received.length} of ${n} notifications`);
        await new Promise((r) => setTimeout(r, 25));
      }
      return received;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
