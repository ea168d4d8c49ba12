import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { feedHeardChanged, signalChange } from '../store/change-signals.js';
import type { Database } from '../store/db.js';

/**
 * This process's ear on the change feed (store/migrations/018-change-feed.ts). Every committed
 * write notifies `maillage_feed` with the types it wrote; hearing one moves the marks of the
 * caches that follow those types (store/change-signals.ts) and wakes the feed's other consumers
 * (the subscriptions). The table stays the durable source: a consumer that must not miss a change
 * reads it (matcher.ts, past its cursor's horizon); the notification only says when to look.
 *
 * A barrier makes a write in force everywhere before its response returns: after the commit, the
 * writer notifies a token and waits until every listening process (feed_process, kept by a
 * heartbeat) has answered it. Notifications reach each listener in commit order, so a process that
 * answers the token has heard the write before.
 */
export const CHANNEL = 'maillage_feed';
const HEARTBEAT_MS = 2000;
/** A process not heard of for this long is no longer waited for (it stopped, or lost its connection). */
const ALIVE_MS = 3 * HEARTBEAT_MS;
/** How long a barrier waits for a process that does not answer: then the response returns anyway. */
const BARRIER_MS = 3000;

export interface EventFeed {
  /** This process's id among the listeners. */
  readonly id: string;
  /** Resolves once every listening process has heard the writes committed before the call. */
  barrier(): Promise<void>;
  /** Calls `fn` with the type of each write heard (once per type and transaction); returns a function that stops. */
  onChange(fn: (type: string) => void): () => void;
  /** Tells every listening process (this one included) `payload`, heard by onSignal. */
  signal(payload: string): Promise<void>;
  onSignal(fn: (payload: string) => void): () => void;
  close(): Promise<void>;
}

export async function startFeed(db: Database, log: Logger): Promise<EventFeed> {
  const id = randomUUID();
  const waiting = new Map<string, { pending: Set<string>; done: () => void }>();
  const listeners = new Set<(type: string) => void>();
  const signalled = new Set<(payload: string) => void>();
  let listening = false;
  const beat = async () => {
    if (!listening) return;
    await db.query(`INSERT INTO feed_process (id, heartbeat) VALUES ($1, now()) ON CONFLICT (id) DO UPDATE SET heartbeat = now()`, [id]);
  };
  const notified = (payload: string) => {
    const [kind, ...rest] = payload.split(':');
    if (kind === 'change') {
      signalChange(rest[0]);
      for (const fn of listeners) fn(rest[0]);
    } else if (kind === 'signal') {
      for (const fn of signalled) fn(rest.join(':'));
    } else if (kind === 'barrier') {
      db.query(`SELECT pg_notify($1, $2)`, [CHANNEL, `ack:${rest[0]}:${id}`]).catch((err: unknown) =>
        log.warn({ err }, 'change feed: answering a barrier failed'),
      );
    } else if (kind === 'ack') {
      const w = waiting.get(rest[0]);
      w?.pending.delete(rest[1]);
      if (w && !w.pending.size) w.done();
    }
  };
  const stop = await db.listen(CHANNEL, {
    notified,
    heard: (now) => {
      listening = now;
      feedHeardChanged(now);
      if (now) beat().catch((err: unknown) => log.warn({ err }, 'change feed: heartbeat failed'));
      else log.warn('change feed: not listening; caches look at the database once a second until it is heard again');
    },
  });
  const timer = setInterval(() => {
    beat().catch((err: unknown) => log.warn({ err }, 'change feed: heartbeat failed'));
  }, HEARTBEAT_MS);
  timer.unref();

  return {
    id,
    async barrier() {
      const rows = await db.query<{ id: string }>(`SELECT id FROM feed_process WHERE heartbeat > now() - make_interval(secs => $1)`, [ALIVE_MS / 1000]);
      const pending = new Set(rows.map((r) => r.id));
      if (listening) pending.add(id);
      if (!pending.size) return;
      const token = randomUUID();
      let timeout: NodeJS.Timeout | undefined;
      const answered = new Promise<void>((resolve) => {
        waiting.set(token, { pending, done: resolve });
        timeout = setTimeout(() => {
          log.warn({ missing: [...pending] }, 'change feed: processes did not answer a barrier in time');
          resolve();
        }, BARRIER_MS);
      });
      try {
        await db.query(`SELECT pg_notify($1, $2)`, [CHANNEL, `barrier:${token}`]);
        await answered;
      } finally {
        clearTimeout(timeout);
        waiting.delete(token);
      }
    },
    onChange(fn) {
      listeners.add(fn);
      return () => listeners.delete(fn);
    },
    async signal(payload) {
      await db.query(`SELECT pg_notify($1, $2)`, [CHANNEL, `signal:${payload}`]);
    },
    onSignal(fn) {
      signalled.add(fn);
      return () => signalled.delete(fn);
    },
    async close() {
      clearInterval(timer);
      await db.query(`DELETE FROM feed_process WHERE id = $1`, [id]).catch(() => undefined);
      await stop();
    },
  };
}
