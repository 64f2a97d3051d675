/**
 * Our own load generator, used for every path so paths differ only in what sits between the two ends: a sink
 * that counts bytes, an echo server, stream sources that write as fast as the socket takes, and an interleaved
 * 64-byte ping-pong (one round over every path in turn, so host-scheduling noise hits all paths alike; see
 * ../shared/perf/ANCHORS.md table 2).
 */
import type { Socket } from "bun";
import { flush, newWriteQueue, send, type WriteQueue } from "../core/net/write_queue.ts";
import { newLatencyRecorder, type LatencyRecorder } from "./latency_recorder.ts";

/** One end of a byte stream, independent of how it was set up (plain TCP, through a relay handshake...). */
export interface Endpoint {
  /** Bytes the kernel took (partial writes are normal). */
  write(bytes: Uint8Array): number;
  end(): void;
  /** Replaced by the generator; the dialer routes socket events here. */
  on: { data?: (chunk: Uint8Array) => void; drain?: () => void; close?: () => void };
}

/** Opens one endpoint towards the path under test. */
export type Dial = () => Promise<Endpoint>;

/** Connections (or relay sessions) being opened at once by a stream test. */
const DIALS_IN_FLIGHT = 128;
/** Size of each write in stream tests (what ANCHORS.md used). */
export const STREAM_CHUNK_BYTES = 64 * 1024;
/** Writes per event-loop turn before a source yields, so sinks in the same process get to read. */
const WRITES_PER_TURN = 16;
/** Ping-pong message size. */
export const PING_BYTES = 64;
/** Bound on bytes an echo server queues per connection before it pauses reading. */
const ECHO_QUEUE_LIMIT_BYTES = 1024 * 1024;

type Handlers = Endpoint["on"];

/** A plain TCP endpoint to 127.0.0.1:`port`. */
export async function dialTcp(port: number): Promise<Endpoint> {
  const on: Handlers = {};
  const s = await Bun.connect({
    hostname: "127.0.0.1",
    port,
    socket: {
      data: (_s, chunk) => on.data?.(chunk),
      drain: () => on.drain?.(),
      close: () => on.close?.(),
      error: () => on.close?.(),
    },
  });
  s.setNoDelay(true);
  return { write: (b) => s.write(b), end: () => s.end(), on };
}

/** A loopback server that accepts anything and counts the bytes. */
export interface Sink {
  port: number;
  bytes(): number;
  stop(): void;
}

/** Starts a counting sink on an ephemeral port. */
export function startSink(): Sink {
  let bytes = 0;
  const l = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data: (_s, chunk) => void (bytes += chunk.byteLength) } });
  return { port: l.port, bytes: () => bytes, stop: () => l.stop(true) };
}

/** Starts an echo server on an ephemeral port (partial writes queued, reading paused while the queue is full). */
export function startEcho(): { port: number; stop(): void } {
  const l = Bun.listen<WriteQueue>({
    hostname: "127.0.0.1",
    port: 0,
    socket: {
      open(s) {
        s.data = newWriteQueue(ECHO_QUEUE_LIMIT_BYTES);
        s.setNoDelay(true);
      },
      data(s, chunk) {
        const r = send(s, s.data, chunk);
        if (r === "queued" || r === "overflow") s.pause();
      },
      drain(s: Socket<WriteQueue>) {
        if (flush(s, s.data)) s.resume();
      },
    },
  });
  return { port: l.port, stop: () => l.stop(true) };
}

/** Aggregate throughput of a stream test. */
export interface StreamResult {
  gbitPerSecond: number;
}

/**
 * Opens `conns` endpoints with `dial`, makes each write 64 KiB chunks as fast as it is allowed for `warmupMs`
 * plus `ms`, and returns the aggregate rate seen by `received` (a byte counter at the receiving end) over `ms`.
 */
export async function measureStreams(dial: Dial, received: () => number, opts: { conns: number; ms: number; warmupMs: number }): Promise<StreamResult> {
  const chunk = new Uint8Array(STREAM_CHUNK_BYTES).fill(0x61);
  // Dials go out a bounded number at a time: a thousand at once overflow accept backlogs, and the SYN
  // retransmits that follow would measure the kernel's backoff instead of the path.
  const opened: PromiseSettledResult<Endpoint>[] = [];
  for (let i = 0; i < opts.conns; i += DIALS_IN_FLIGHT) {
    const batch = Math.min(DIALS_IN_FLIGHT, opts.conns - i);
    opened.push(...(await Promise.allSettled(Array.from({ length: batch }, dial))));
  }
  const ends = opened.flatMap((r) => (r.status === "fulfilled" ? [r.value] : []));
  const failure = opened.find((r) => r.status === "rejected");
  if (failure) {
    for (const ep of ends) ep.end();
    throw new Error(`${opened.length - ends.length} of ${opts.conns} streams failed to open: ${String(failure.reason)}`);
  }
  let running = true;
  for (const ep of ends) {
    let tail: Uint8Array | undefined;
    const pump = () => {
      for (let i = 0; running && i < WRITES_PER_TURN; i++) {
        const buf = tail ?? chunk;
        const n = ep.write(buf);
        if (n < buf.byteLength) {
          tail = buf.subarray(Math.max(n, 0));
          return; // resumed by drain
        }
        tail = undefined;
      }
      if (running) setImmediate(pump);
    };
    ep.on.drain = pump;
    ep.on.close = () => void (tail = undefined);
    pump();
  }
  try {
    await Bun.sleep(opts.warmupMs);
    const b0 = received();
    const s0 = performance.now();
    await Bun.sleep(opts.ms);
    const bytes = received() - b0;
    const seconds = (performance.now() - s0) / 1000;
    return { gbitPerSecond: (bytes * 8) / seconds / 1e9 };
  } finally {
    running = false;
    for (const ep of ends) ep.end();
  }
}

/** A path for the ping-pong: a name and how to reach an echo server through it. */
export interface PingPath {
  name: string;
  dial: Dial;
}

/**
 * Round trips per path thrown away before recording (JIT, caches, first connection setup). Enough for the
 * shipped relay's hot path to be compiled: PRODUCTION_ENV (ops/build.ts) compiles a function after 10,000 calls,
 * and each round is two calls of the relay's data handler.
 */
export const PING_WARMUP_ROUNDS = 6_000;

/**
 * 64-byte round trips over every path in turn, round after round, until `rounds` or `ms` is reached. Returns a
 * latency recorder per path name.
 */
export async function pingInterleaved(paths: PingPath[], opts: { rounds: number; ms: number; onRound?: (round: number) => void }): Promise<Map<string, LatencyRecorder>> {
  const msg = new Uint8Array(PING_BYTES).fill(0x62);
  const conns = await Promise.all(
    paths.map(async (p) => {
      const ep = await p.dial();
      let got = 0;
      let wake: (() => void) | undefined;
      ep.on.data = (c) => {
        got += c.byteLength;
        if (got >= PING_BYTES && wake) wake();
      };
      const roundTrip = () =>
        new Promise<void>((resolve, reject) => {
          got = 0;
          wake = resolve;
          ep.on.close = () => reject(new Error(`${p.name}: connection closed during ping-pong`));
          if (ep.write(msg) !== PING_BYTES) reject(new Error(`${p.name}: a 64-byte write was partial`));
        });
      return { name: p.name, ep, roundTrip, rec: newLatencyRecorder() };
    }),
  );
  try {
    const deadline = performance.now() + opts.ms;
    for (let round = 0; round < opts.rounds + PING_WARMUP_ROUNDS && performance.now() < deadline; round++) {
      for (const c of conns) {
        const t = Bun.nanoseconds();
        await c.roundTrip();
        if (round >= PING_WARMUP_ROUNDS) c.rec.recordSince(t);
      }
      if (round % 1000 === 0) opts.onRound?.(round);
    }
  } finally {
    for (const c of conns) c.ep.end();
  }
  return new Map(conns.map((c) => [c.name, c.rec]));
}

/** Bytes each pairing exchanges before it closes (what ANCHORS.md table 4 used). */
export const PAIRING_ECHO_BYTES = 32;

/**
 * `workers` loops of: open a connection (or relay session) with `dial`, send 32 bytes, wait for them to come
 * back from the echo behind the path, close. Returns completed pairings per second and their latency.
 */
export async function measurePairings(dial: Dial, opts: { workers: number; ms: number }): Promise<{ perSecond: number; latency: LatencyRecorder }> {
  const msg = new Uint8Array(PAIRING_ECHO_BYTES).fill(0x63);
  const latency = newLatencyRecorder();
  const deadline = performance.now() + opts.ms;
  let done = 0;
  const start = performance.now();
  const worker = async () => {
    while (performance.now() < deadline) {
      const t = Bun.nanoseconds();
      const ep = await dial();
      await new Promise<void>((resolve, reject) => {
        let got = 0;
        ep.on.data = (c) => {
          got += c.byteLength;
          if (got >= PAIRING_ECHO_BYTES) resolve();
        };
        ep.on.close = () => reject(new Error("connection closed before the echo came back"));
        if (ep.write(msg) !== PAIRING_ECHO_BYTES) reject(new Error("a 32-byte write was partial"));
      });
      ep.on.close = undefined;
      ep.end();
      latency.recordSince(t);
      done++;
    }
  };
  await Promise.all(Array.from({ length: opts.workers }, worker));
  return { perSecond: (done * 1000) / (performance.now() - start), latency };
}

/** A path of an interleaved stream test. */
export interface StreamPath {
  name: string;
  dial: Dial;
  /** Byte counter at the receiving end of this path. */
  received: () => number;
}

/**
 * Stream tests over several paths, interleaved: `rounds` rounds, each measuring every path in turn for
 * `ms / rounds`, so a noisy neighbour slows all paths alike instead of one (ANCHORS.md). Returns each path's
 * Gbit/s per round.
 */
export async function measureStreamsInterleaved(
  paths: StreamPath[],
  opts: { conns: number; rounds: number; ms: number; warmupMs: number; onPath?: (name: string, round: number) => void },
): Promise<Map<string, number[]>> {
  const out = new Map<string, number[]>(paths.map((p) => [p.name, []]));
  for (let round = 0; round < opts.rounds; round++) {
    for (const p of paths) {
      opts.onPath?.(p.name, round);
      const r = await measureStreams(p.dial, p.received, { conns: opts.conns, ms: opts.ms / opts.rounds, warmupMs: opts.warmupMs });
      out.get(p.name)!.push(r.gbitPerSecond);
    }
  }
  return out;
}

/** The median of a non-empty list. */
export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}
