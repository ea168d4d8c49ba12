import autocannon from 'autocannon';
import { cpuSeconds, rss } from './processes.js';

export interface Load {
  connections: number;
  /** Seconds measured. */
  duration: number;
  /** Seconds of the same load first, not measured: JIT, pool and database caches warm up. */
  warmup: number;
}

export interface Figures {
  requests: number;
  /** Requests per second over the measured window. */
  throughput: number;
  /** Latency percentiles in milliseconds. */
  p50: number;
  p95: number;
  p99: number;
  /** Responses with a status other than 2xx, and connection errors or timeouts. */
  non2xx: number;
  errors: number;
  /**
   * CPU time per request in milliseconds, of the server process, of its PostgreSQL backends and of
   * autocannon (this process). Steadier than throughput when other work shares the machine: their
   * sum bounds the throughput of a machine left to the benchmark.
   */
  cpu: { server: number; database: number; loadGenerator: number };
  /** The server's resident memory in bytes: at the start of the measure, its highest sample, at the end. */
  rss: { start: number; peak: number; end: number };
}

const RSS_INTERVAL_MS = 250;
/** Seconds before autocannon counts a request as failed: a transaction of 1,000 entries takes seconds. */
const TIMEOUT_S = 60;

/** CPU seconds of each process still running; exited ones are left out. */
function cpuOf(pids: number[]): Map<number, number> {
  const cpu = new Map<number, number>();
  for (const pid of pids) {
    try {
      cpu.set(pid, cpuSeconds(pid));
    } catch {
      // exited
    }
  }
  return cpu;
}

/** CPU used between two readings (a process first seen in the second counts from its start). */
function cpuBetween(before: Map<number, number>, after: Map<number, number>): number {
  let total = 0;
  for (const [pid, cpu] of after) total += cpu - (before.get(pid) ?? 0);
  return total;
}

/**
 * Warms up, then runs autocannon against a server process while sampling its memory and the CPU
 * of it, of its database backends (pids from `backends`) and of this process.
 */
export async function measure(url: string, pid: number, backends: () => Promise<number[]>, requests: autocannon.Request[], load: Load): Promise<Figures> {
  if (load.warmup > 0) await autocannon({ url, connections: load.connections, duration: load.warmup, requests, timeout: TIMEOUT_S });

  const samples = [rss(pid)];
  const serverBefore = cpuSeconds(pid);
  const databaseBefore = cpuOf(await backends());
  const selfBefore = process.cpuUsage();
  const timer = setInterval(() => samples.push(rss(pid)), RSS_INTERVAL_MS);
  // autocannon's own percentiles skip p95: keep every latency and take them from the sorted list.
  const latencies: number[] = [];
  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    const options = { url, connections: load.connections, duration: load.duration, requests, timeout: TIMEOUT_S };
    const instance = autocannon(options, (err, res) => (err ? reject(err) : resolve(res)));
    instance.on('response', (_client, _status, _bytes, time) => latencies.push(time));
  });
  clearInterval(timer);
  samples.push(rss(pid));
  const server = cpuSeconds(pid) - serverBefore;
  const database = cpuBetween(databaseBefore, cpuOf(await backends()));
  const self = process.cpuUsage(selfBefore);
  const perRequest = (seconds: number) => (seconds * 1000) / latencies.length;

  latencies.sort((a, b) => a - b);
  const at = (p: number) => latencies[Math.min(latencies.length - 1, Math.ceil((p / 100) * latencies.length) - 1)] ?? NaN;
  return {
    requests: latencies.length,
    throughput: latencies.length / result.duration,
    p50: at(50),
    p95: at(95),
    p99: at(99),
    non2xx: result.non2xx,
    errors: result.errors,
    cpu: {
      server: perRequest(server),
      database: perRequest(database),
      loadGenerator: perRequest((self.user + self.system) / 1e6),
    },
    rss: { start: samples[0], peak: Math.max(...samples), end: samples[samples.length - 1] },
  };
}
