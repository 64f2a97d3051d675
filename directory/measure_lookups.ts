/**
 * Lookup latency over the real root protocol: `connections` TLS connections, each sending one lookup at a
 * time and timing it from write to the reply's `\r\n@`. Used by the bench and the 1M-row measurement.
 */
import type { Socket } from "bun";
import { flush, newWriteQueue, send } from "../core/net/write_queue.ts";

/** Target, trust, keys and load of a measurement. */
export interface LookupMeasureOptions {
  host?: string;
  port: number;
  /** CA (PEM) the directory certificate chains to. */
  ca: string | string[];
  serverName?: string;
  /** @sign bodies (no `@`) to look up, used round-robin; use registered ones (misses are throttled). */
  keys: string[];
  /** Lookups in total, split evenly over the connections (rounded up per connection). */
  lookups: number;
  connections?: number;
  /** Lookups per connection run first and not recorded (JIT, page cache). */
  warmup?: number;
}

/** Result of a measurement; latencies in milliseconds. */
export interface LookupMeasure {
  lookups: number;
  seconds: number;
  perSecond: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  /** Replies that were `null` (the key was not registered). */
  misses: number;
}

const TAIL = "\r\n@";

/**
 * Runs the measurement and resolves with percentiles over all recorded lookups.
 * @example await measureLookups({ port: dir.port, ca, keys: ["bench0000042"], lookups: 20_000 })
 */
export async function measureLookups(opts: LookupMeasureOptions): Promise<LookupMeasure> {
  if (opts.keys.length === 0) throw new RangeError("Cannot measure lookups: keys is empty");
  const connections = Math.max(1, opts.connections ?? 1);
  const perConn = Math.ceil(opts.lookups / connections);
  const samples: number[] = [];
  let misses = 0;
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: connections }, () =>
      oneConnection(opts, perConn, opts.warmup ?? 0, () => opts.keys[next++ % opts.keys.length]!, (ms, reply) => {
        samples.push(ms);
        if (reply.startsWith("null")) misses++;
      }),
    ),
  );
  const seconds = (performance.now() - started) / 1000;
  samples.sort((a, b) => a - b);
  const at = (q: number) => samples[Math.min(samples.length - 1, Math.floor(q * samples.length))] ?? 0;
  return { lookups: samples.length, seconds, perSecond: samples.length / seconds, p50Ms: at(0.5), p99Ms: at(0.99), maxMs: at(1), misses };
}

function oneConnection(
  opts: LookupMeasureOptions,
  count: number,
  warmup: number,
  nextKey: () => string,
  record: (ms: number, reply: string) => void,
): Promise<void> {
  return new Promise((resolve, reject) => {
    let buf = "";
    let prompted = false;
    let done = 0;
    let sentAt = 0;
    const decoder = new TextDecoder();
    const out = newWriteQueue();
    const ask = (s: Socket<undefined>) => {
      if (done >= count + warmup) {
        s.end();
        return resolve();
      }
      sentAt = performance.now();
      send(s, out, nextKey() + "\n");
    };
    Bun.connect({
      hostname: opts.host ?? "127.0.0.1",
      port: opts.port,
      tls: { ca: opts.ca, serverName: opts.serverName ?? "localhost" },
      socket: {
        data(s, chunk) {
          buf += decoder.decode(chunk, { stream: true });
          if (!prompted) {
            if (buf !== "@") return;
            prompted = true;
            buf = "";
            return ask(s);
          }
          if (!buf.endsWith(TAIL)) return;
          const ms = performance.now() - sentAt;
          if (done >= warmup) record(ms, buf);
          done++;
          buf = "";
          ask(s);
        },
        drain(s) {
          flush(s, out);
        },
        close() {
          if (done < count + warmup) reject(new Error(`Connection closed after ${done} lookups`));
        },
        connectError(_s, err) {
          reject(err);
        },
      },
    }).catch(reject);
  });
}
