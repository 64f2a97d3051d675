/**
 * The relay's data path: bytes read from one leg are written to the other as the same buffer.
 *
 * Bounded memory by construction:
 * - a partial write queues only the unwritten tail (a view, no copy) and pauses the source at once, so each
 *   direction holds at most the chunk that did not fit plus whatever Bun had already read (capped by
 *   `queueLimitBytes`; past that the pair is closed, which a well-behaved runtime never triggers);
 * - a chunk the kernel took completely is released right away (its ArrayBuffer is detached), so the ~512 KiB
 *   buffers Bun allocates per `data` event go back to the allocator instead of waiting for the GC
 *   (perf/ANCHORS.md §3: garbage, not queued bytes, is what made a naive Bun relay reach ~530 MB).
 * - all queues together have a budget: past `totalQueueLimitBytes` every paired socket stops reading until the
 *   total is back under a quarter of it. Needed because a tail can be up to one whole read (~512 KiB), so
 *   1,000 streams with one tail each could hold ~0.5 GB; pausing keeps the data in the kernel's socket buffers
 *   and lets TCP flow control push back on the senders. The budget counts the memory a queue keeps alive —
 *   the whole buffer behind each queued tail, not just its unsent bytes (`heldBytes`).
 * Half-close: a FIN from one leg becomes `shutdown()` on the other once that direction's queue is empty; when
 * both directions are finished the pair is closed.
 */
import { type WriteQueue, flush, newWriteQueue, send } from "../core/net/write_queue.ts";

/** Default cap on bytes queued per direction (two of Bun's largest read chunks). */
export const PIPE_QUEUE_LIMIT_BYTES = 1024 * 1024;
/**
 * Default budget for the memory held by all queues together (see the module comment). Measured with
 * relay/measure/relay_memory.ts at 1,000 busy streams: 4 MiB → 62-100 MiB relay RSS, 16 MiB → 105-135 MiB,
 * none → up to 470 MiB; no throughput difference at 100 streams. Counting whole buffers instead of unsent bytes
 * took `bun bench.ts relay` at 1,000 busy streams from 199 to 83-99 MiB, and throughput from 16.7 to 16-23 Gbit/s.
 */
export const PIPE_TOTAL_QUEUE_LIMIT_BYTES = 4 * 1024 * 1024;

/** Read buffers at least this large are released after writing; smaller ones are left to the GC. */
const RELEASE_MIN_BYTES = 4 * 1024;

/** Per-pair accounting the pipe updates on every chunk. */
export interface PairMeter {
  bytes: number;
  lastActiveMs: number;
}

/** The pipe state of one socket. `out` holds bytes waiting to be written TO this socket. */
export interface PipeEnd {
  peer: PipeSocket | null;
  out: WriteQueue;
  meter: PairMeter | null;
  /** This socket's reads are paused because its peer's queue is not empty. */
  readPaused: boolean;
  /** This socket's reads are paused because all queues together are over budget. */
  throttled: boolean;
  /** This socket sent FIN. */
  finReceived: boolean;
  /** We sent FIN to this socket. */
  finSent: boolean;
  /** The socket is closed; what it sent before is still being delivered to the peer. */
  gone: boolean;
  /** What `out` holds in memory, as counted in PipeStats.queuedBytes. */
  held: number;
}

/** What the pipe needs from a socket (Bun's Socket fits). */
export interface PipeSocket {
  data: { pipe: PipeEnd };
  write(data: Uint8Array): number;
  pause(): void;
  resume(): void;
  shutdown(halfClose?: boolean): void;
}

/** Counters of the data path (numbers only, read by stats() and /metrics). */
export interface PipeStats {
  /**
   * Memory held by queued chunks right now, both directions of all pairs: whole read buffers, not just their
   * unsent tails, because a 1-byte tail keeps its ~512 KiB buffer alive (see `heldBytes`).
   */
  queuedBytes: number;
  /** Highest `queuedBytes` seen. */
  queuedBytesHighWater: number;
  /** Sockets whose reads are paused right now. */
  pausedReads: number;
  /** Times a source was paused for backpressure. */
  pauseEvents: number;
  /** Bytes forwarded. */
  bytesForwarded: number;
  /** Chunks whose buffer was released right after the write. */
  buffersReleased: number;
  /** Times all reading stopped because the total queue was over budget. */
  throttleEvents: number;
}

/** What the pipe calls back into the relay for. */
export interface PipeContext {
  stats: PipeStats;
  nowMs(): number;
  queueLimitBytes: number;
  totalQueueLimitBytes: number;
  bytesPerPairLimit: number;
  /** Every linked socket (for throttling); maintained by linkPipe and pipeDiscard. */
  linked: Set<PipeSocket>;
  /** True while reading is stopped for the total budget. */
  throttling: boolean;
  /** Reused list for pipeDrain (saves an allocation per drain). */
  scratch: Uint8Array[];
  /** Detach Bun's read buffers once written (see the module comment). */
  releaseBuffers: boolean;
  /** Ends both legs; `reason` is a metrics label. */
  closePair(s: PipeSocket, reason: "queue_overflow" | "byte_quota" | "half_closed" | "closed"): void;
}

/** Fresh pipe state for a socket that is not paired yet (its `out` is already usable for handshake bytes). */
export function newPipeEnd(queueLimitBytes: number): PipeEnd {
  return { peer: null, out: newWriteQueue(queueLimitBytes), meter: null, readPaused: false, throttled: false, finReceived: false, finSent: false, gone: false, held: 0 };
}

/** Creates empty pipe counters. */
export function newPipeStats(): PipeStats {
  return { queuedBytes: 0, queuedBytesHighWater: 0, pausedReads: 0, pauseEvents: 0, bytesForwarded: 0, buffersReleased: 0, throttleEvents: 0 };
}

/** Joins two sockets; from now on `pipeData`/`pipeDrain`/`pipeEnd` move bytes between them. */
export function linkPipe(ctx: PipeContext, a: PipeSocket, b: PipeSocket, meter: PairMeter): void {
  a.data.pipe.peer = b;
  b.data.pipe.peer = a;
  a.data.pipe.meter = meter;
  b.data.pipe.meter = meter;
  ctx.linked.add(a);
  ctx.linked.add(b);
  if (ctx.throttling) {
    throttle(a);
    throttle(b);
  }
}

/** `data` handler of a paired socket: forwards `chunk` to the peer as is. */
export function pipeData(ctx: PipeContext, src: PipeSocket, chunk: Uint8Array): void {
  const p = src.data.pipe;
  const dst = p.peer;
  if (!dst || dst.data.pipe.gone) return;
  const meter = p.meter!;
  meter.bytes += chunk.byteLength;
  meter.lastActiveMs = ctx.nowMs();
  ctx.stats.bytesForwarded += chunk.byteLength;
  const r = send(dst, dst.data.pipe.out, chunk);
  if (r === "sent") release(ctx, chunk);
  else if (r !== "closed") {
    recount(ctx.stats, dst.data.pipe);
    if (!p.readPaused) {
      p.readPaused = true;
      if (!p.throttled) src.pause();
      ctx.stats.pausedReads++;
      ctx.stats.pauseEvents++;
    }
    if (r === "overflow") return ctx.closePair(src, "queue_overflow");
    if (!ctx.throttling && ctx.stats.queuedBytes > ctx.totalQueueLimitBytes) {
      ctx.throttling = true;
      ctx.stats.throttleEvents++;
      for (const s of ctx.linked) throttle(s);
    }
  }
  if (meter.bytes > ctx.bytesPerPairLimit) ctx.closePair(src, "byte_quota");
}

/** `drain` handler: writes what is queued for `dst`; once empty, resumes its peer and forwards a pending FIN. */
export function pipeDrain(ctx: PipeContext, dst: PipeSocket): void {
  const d = dst.data.pipe;
  const q = d.out;
  const queued = ctx.scratch;
  for (const c of q.chunks) queued.push(c);
  const empty = flush(dst, q);
  // flush() shifts the chunks it wrote completely; those buffers can go back to the allocator now.
  for (let i = 0; i < queued.length - q.chunks.length; i++) release(ctx, queued[i]!);
  queued.length = 0;
  recount(ctx.stats, d);
  // A slow reader that is still taking bytes is not idle.
  if (d.meter) d.meter.lastActiveMs = ctx.nowMs();
  if (!empty) return;
  const src = d.peer;
  if (!src) return;
  if (src.data.pipe.readPaused) {
    src.data.pipe.readPaused = false;
    ctx.stats.pausedReads--;
    if (!src.data.pipe.throttled) src.resume();
  }
  maybeUnthrottle(ctx);
  if (src.data.pipe.finReceived) forwardFin(ctx, dst);
}

/** `end` handler (the socket sent FIN): forwards it to the peer once the peer's queue is empty. */
export function pipeEnd(ctx: PipeContext, src: PipeSocket): void {
  src.data.pipe.finReceived = true;
  const dst = src.data.pipe.peer;
  if (dst && dst.data.pipe.out.bytes === 0) forwardFin(ctx, dst);
}

/**
 * `close` handler of a paired socket. Bun cannot tell a FIN after our shutdown from a full close, so the
 * close counts as end of input: bytes it sent that are still queued for the peer are delivered first, then
 * the pair ends.
 */
export function pipeClosed(ctx: PipeContext, s: PipeSocket): void {
  const p = s.data.pipe;
  p.gone = true;
  p.finReceived = true;
  const dst = p.peer;
  if (!dst || dst.data.pipe.gone || dst.data.pipe.out.bytes === 0) return ctx.closePair(s, p.finSent ? "half_closed" : "closed");
  // pipeDrain(dst) forwards the FIN once the queue is empty, and forwardFin then ends the pair.
}

/** Drops what is queued for a socket that is going away (keeps the counters right). */
export function pipeDiscard(ctx: PipeContext, s: PipeSocket): void {
  const p = s.data.pipe;
  p.out.chunks.length = 0;
  p.out.bytes = 0;
  recount(ctx.stats, p);
  if (p.readPaused) {
    p.readPaused = false;
    ctx.stats.pausedReads--;
  }
  p.throttled = false;
  p.peer = null;
  ctx.linked.delete(s);
  // A pair that ends while everyone is throttled may be what brings the total back under budget.
  maybeUnthrottle(ctx);
}

/** Ends the all-pairs pause once the total is back under a quarter of the budget. */
function maybeUnthrottle(ctx: PipeContext): void {
  if (!ctx.throttling || ctx.stats.queuedBytes > ctx.totalQueueLimitBytes / 4) return;
  ctx.throttling = false;
  for (const s of ctx.linked) unthrottle(s);
}

function throttle(s: PipeSocket): void {
  const p = s.data.pipe;
  if (p.throttled) return;
  p.throttled = true;
  if (!p.readPaused) s.pause();
}

function unthrottle(s: PipeSocket): void {
  const p = s.data.pipe;
  if (!p.throttled) return;
  p.throttled = false;
  if (!p.readPaused && !p.gone) s.resume();
}

function forwardFin(ctx: PipeContext, dst: PipeSocket): void {
  const d = dst.data.pipe;
  if (d.finSent) return;
  d.finSent = true;
  dst.shutdown();
  const src = d.peer;
  if (!src) return;
  const sp = src.data.pipe;
  if (sp.gone) ctx.closePair(dst, sp.finSent ? "half_closed" : "closed");
  else if (sp.finSent && d.finReceived) ctx.closePair(dst, "half_closed");
}

/** Updates the memory counted for `end`'s queue after it changed. */
function recount(stats: PipeStats, end: PipeEnd): void {
  const held = heldBytes(end.out);
  stats.queuedBytes += held - end.held;
  end.held = held;
  if (stats.queuedBytes > stats.queuedBytesHighWater) stats.queuedBytesHighWater = stats.queuedBytes;
}

/**
 * The memory a queue keeps alive: the whole buffer behind each chunk (a queued tail is a view, so its buffer
 * stays allocated until the tail is written). Counting only unsent bytes let 1,000 streams with small tails
 * hold ~160 MiB of read buffers under a 4 MiB budget (bench relay, 1,000 busy streams: 199 MiB RSS).
 */
function heldBytes(q: WriteQueue): number {
  let n = 0;
  let last: ArrayBufferLike | null = null;
  for (const c of q.chunks) {
    if (c.buffer !== last) n += c.buffer.byteLength;
    last = c.buffer;
  }
  return n;
}

function release(ctx: PipeContext, chunk: Uint8Array): void {
  if (!ctx.releaseBuffers) return;
  const buf = chunk.buffer as ArrayBuffer;
  // Bun hands every `data` event a fresh ArrayBuffer (perf/ANCHORS.md §8), and `chunk` is that buffer or its
  // tail. Small buffers are left to the GC: they are cheap, and a small one could come from a shared pool.
  if (buf.detached || buf.byteLength < RELEASE_MIN_BYTES || chunk.byteOffset + chunk.byteLength !== buf.byteLength) return;
  buf.transfer(0);
  ctx.stats.buffersReleased++;
}
