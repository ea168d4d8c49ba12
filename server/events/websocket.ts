import { createHash, randomBytes } from 'node:crypto';
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import type { Parameters } from '@medplum/fhirtypes';
import { fail, notFound } from '../fhir/outcome.js';
import type { Context } from '../interactions/context.js';
import type { Database } from '../store/db.js';
import { websocketBundle, websocketHandshake } from './backport-websocket.js';
import type { EventFeed } from './feed.js';

/**
 * R4's websocket channel at WS_PATH: a client binds a socket to a Subscription, then hears
 * `ping [id]` for each of its notifications (delivery.ts signals them through the feed, so a socket
 * on any process hears them). `bind [id]` (R4's own protocol) carries no credential: it is
 * accepted only when the server runs without authorization. With it, the owner asks
 * `$get-ws-binding-token` and binds with `bind-with-token [token]` (the Argonaut proxy's text) or
 * `{"type":"bind-with-token","payload":{"token":…}}` (Medplum's JSON); the token is kept as a
 * digest, valid an hour, in every process.
 */
export const WS_PATH = '/ws/subscriptions';
const TOKEN_SECONDS = 3600;

const digest = (token: string) => createHash('sha256').update(token).digest('base64url');

export interface SocketHub {
  close(): void;
}

export function attachWebsockets(server: Server, db: Database, feed: EventFeed, authEnabled: boolean, fhirBase: string): SocketHub {
  const wss = new WebSocketServer({ noServer: true, maxPayload: 4096 });
  const bound = new Map<string, Set<WebSocket>>();
  const bind = (ws: WebSocket, id: string) => {
    let set = bound.get(id);
    if (!set) bound.set(id, (set = new Set()));
    set.add(ws);
    ws.once('close', () => {
      set.delete(ws);
      if (!set.size) bound.delete(id);
    });
    ws.send(`bound ${id}`);
    websocketHandshake(db, fhirBase, id)
      .then((handshake) => handshake && ws.send(handshake))
      .catch(() => ws.send(`error ${id} no handshake could be made`));
  };
  const onMessage = async (ws: WebSocket, text: string) => {
    let token: string | undefined;
    let id: string | undefined;
    if (text.startsWith('{')) {
      const msg = JSON.parse(text) as { type?: string; payload?: { token?: string } };
      if (msg.type === 'bind-with-token') token = msg.payload?.token;
    } else if (text.startsWith('bind-with-token ')) token = text.slice('bind-with-token '.length).trim();
    else if (text.startsWith('bind ')) id = text.slice('bind '.length).trim();
    if (token) {
      const [row] = await db.query<{ subscription: string }>(`SELECT subscription FROM subscription_ws_token WHERE digest = $1 AND expires > now()`, [
        digest(token),
      ]);
      if (!row) return ws.send('error invalid or expired token');
      return bind(ws, row.subscription);
    }
    if (id) {
      if (authEnabled) return ws.send(`error ${id} bind needs a token: use $get-ws-binding-token and bind-with-token`);
      const [row] = await db.query(`SELECT 1 FROM resource WHERE type = 'Subscription' AND id = $1 AND NOT deleted`, [id]);
      if (!row) return ws.send(`error ${id} no such Subscription`);
      return bind(ws, id);
    }
    ws.send('error unknown message');
  };
  wss.on('connection', (ws) => {
    ws.on('error', () => undefined);
    ws.on('message', (data) => {
      onMessage(ws, data.toString()).catch(() => ws.send('error the message could not be handled'));
    });
  });
  const onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    if (new URL(req.url ?? '/', 'http://x').pathname !== WS_PATH) {
      socket.destroy();
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
  };
  server.on('upgrade', onUpgrade);
  const stop = feed.onSignal((payload) => {
    const topicBased = websocketBundle(payload);
    if (topicBased) for (const ws of bound.get(topicBased.id) ?? []) ws.send(topicBased.json);
    if (!payload.startsWith('ws:')) return;
    const id = payload.slice(3);
    for (const ws of bound.get(id) ?? []) ws.send(`ping ${id}`);
  });
  return {
    close() {
      stop();
      server.off('upgrade', onUpgrade);
      for (const ws of wss.clients) ws.terminate();
      wss.close();
    },
  };
}

/**
 * Subscription/[id]/$get-ws-binding-token: a token binding a websocket to the Subscription, for
 * the client and user that own it only (or anyone without authorization).
 */
export async function wsBindingToken(ctx: Context, id: string): Promise<{ status: number; resource: Parameters }> {
  const [row] = await ctx.db.query<{ owner: { clientId: string; subject: string } | null }>(
    `SELECT s.owner FROM subscription_state s JOIN resource r ON r.type = 'Subscription' AND r.id = s.id AND NOT r.deleted WHERE s.id = $1`,
    [id],
  );
  if (!row) throw notFound(`Subscription/${id} is not known`);
  if (ctx.access && (row.owner?.clientId !== ctx.access.clientId || row.owner?.subject !== ctx.access.subject)) {
    throw fail(403, 'forbidden', `Subscription/${id} belongs to another client or user`);
  }
  const token = randomBytes(32).toString('base64url');
  const expires = new Date(Date.now() + TOKEN_SECONDS * 1000);
  await ctx.db.query(`INSERT INTO subscription_ws_token (digest, subscription, expires) VALUES ($1, $2, $3)`, [digest(token), id, expires]);
  await ctx.db.query(`DELETE FROM subscription_ws_token WHERE expires < now()`);
  const ws = new URL(WS_PATH, ctx.origin);
  ws.protocol = ws.protocol === 'https:' ? 'wss:' : 'ws:';
  return {
    status: 200,
    resource: {
      resourceType: 'Parameters',
      parameter: [
        { name: 'token', valueString: token },
        { name: 'expiration', valueDateTime: expires.toISOString() },
        { name: 'subscription', valueString: `Subscription/${id}` },
        { name: 'websocket-url', valueUrl: ws.toString() },
      ],
    },
  };
}
