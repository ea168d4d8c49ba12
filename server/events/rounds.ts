import type { Logger } from 'pino';

/**
 * Runs `round` when woken (and every `everyMs`), one round at a time: a wake during a round runs
 * another after it. A failed round is logged; the next one retries.
 */
export function startRounds(round: () => Promise<void>, everyMs: number, log: Logger, what: string) {
  let running: Promise<void> | undefined;
  let again = false;
  let closed = false;
  const wake = () => {
    if (closed) return;
    if (running) {
      again = true;
      return;
    }
    running = (async () => {
      do {
        again = false;
        await round().catch((err: unknown) => log.warn({ err }, `${what}: a round failed; the next one retries`));
      } while (again && !closed);
    })().finally(() => (running = undefined));
  };
  const timer = setInterval(wake, everyMs);
  timer.unref();
  wake();
  return {
    wake,
    get closed() {
      return closed;
    },
    async close() {
      closed = true;
      clearInterval(timer);
      await running;
    },
  };
}
