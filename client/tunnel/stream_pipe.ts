/**
 * The data path of one tunnel stream, the same on both ends: a plain socket (the local app's connection on the
 * requester, the target service on the device) and a relay leg carrying AES-256-GCM records
 * (core/crypto/tunnel/record.ts) under this stream's keys.
 *
 *   plain → seal → leg      leg → open → plain
 *
 * Bounded memory: every write goes through a write queue (core/net); when a write is partial the source socket
 * is paused and resumed once the queue drained, so each direction holds at most about one read chunk.
 * Half-close: a FIN from the plain socket becomes the authenticated END record and then a FIN on the leg; an END
 * record from the peer becomes a FIN on the plain socket once what came before it is written. When both
 * directions are finished both sockets are closed. A tampered, replayed, reordered or truncated record stream
 * (e.g. the peer died mid-stream) aborts both sockets, so the app sees a reset rather than a clean end.
 *
 * Either socket may be attached first (the device dials its target and the relay at the same time): bytes that
 * arrive before the other side is attached are held, and their source paused.
 */
import type { Socket } from "bun";
import { TunnelError } from "../../core/crypto/tunnel/tunnel_error.ts";
import { type TunnelOpener, type TunnelSealer, newOpener, newSealer, open, seal, sealKeepalive } from "../../core/crypto/tunnel/record.ts";
import type { StreamKeys } from "../../core/crypto/tunnel/handshake.ts";
import { type WriteQueue, flush, newWriteQueue, send } from "../../core/net/write_queue.ts";

/** Cap of bytes queued toward one socket of a stream; sources pause long before it (one read chunk is ~512 KiB). */
export const STREAM_QUEUE_LIMIT_BYTES = 4 * 1024 * 1024;
/** Bytes held per side before both sockets of a stream are attached. */
export const STREAM_EARLY_LIMIT_BYTES = 1024 * 1024;
/** Buffers at least this large are freed as soon as they are used up (see `release`). */
const RELEASE_MIN_BYTES = 64 * 1024;

/** The socket operations the pipe uses (Bun's Socket fits). */
export type PipeSocket = Pick<Socket<unknown>, "write" | "pause" | "resume" | "shutdown" | "end" | "terminate">;

/** How a stream ended. */
export interface StreamEnd {
  /** "done" when both directions finished with their END, else why it was aborted. */
  reason: string;
  /** Plaintext bytes app → peer and peer → app. */
  bytesOut: number;
  bytesIn: number;
}

/** One direction's state. `q` holds bytes waiting to be written to `to`. */
interface Side {
  sock: PipeSocket | null;
  q: WriteQueue;
  /** Bytes that arrived from this socket before the pipe was complete. */
  early: Uint8Array[];
  earlyBytes: number;
  /** This socket is paused because the queue toward the other one is not empty. */
  paused: boolean;
  /** This socket sent FIN (plain) / its peer's END record arrived (leg). */
  eof: boolean;
  /** We sent FIN to this socket. */
  shut: boolean;
  /** The socket closed. */
  gone: boolean;
}

/** A stream being set up or running. Feed it the sockets' events. */
export interface StreamPipe {
  readonly plain: Side;
  readonly leg: Side;
  sealer: TunnelSealer;
  opener: TunnelOpener;
  /** END record queued toward the leg. */
  endSealed: boolean;
  /** A record went toward the leg since the last keepStreamAlive (see there). */
  sentSinceKeepalive: boolean;
  bytesOut: number;
  bytesIn: number;
  finished: boolean;
  onEnd: (e: StreamEnd) => void;
}

function newSide(): Side {
  return { sock: null, q: newWriteQueue(STREAM_QUEUE_LIMIT_BYTES), early: [], earlyBytes: 0, paused: false, eof: false, shut: false, gone: false };
}

/**
 * A pipe for one stream with these keys; attach both sockets, then route their events here.
 * @example const p = newStreamPipe(streamKeys(session, i), (e) => log(e)); attachPlain(p, local); attachLeg(p, leg);
 */
export function newStreamPipe(keys: StreamKeys, onEnd: (e: StreamEnd) => void): StreamPipe {
  return { plain: newSide(), leg: newSide(), sealer: newSealer(keys.sendKey), opener: newOpener(keys.receiveKey), endSealed: false, sentSinceKeepalive: false, bytesOut: 0, bytesIn: 0, finished: false, onEnd };
}

/** Attaches the plain socket (local app connection or target service). */
export function attachPlain(p: StreamPipe, sock: PipeSocket): void {
  attach(p, p.plain, sock);
}

/** Attaches the relay leg (already paired). */
export function attachLeg(p: StreamPipe, sock: PipeSocket): void {
  attach(p, p.leg, sock);
}

function attach(p: StreamPipe, side: Side, sock: PipeSocket): void {
  if (p.finished) {
    sock.terminate();
    return;
  }
  side.sock = sock;
  if (!p.plain.sock || !p.leg.sock) return;
  // Both present: replay what arrived early, in order, then the FINs.
  for (const s of [p.plain, p.leg]) {
    const early = s.early.splice(0);
    s.earlyBytes = 0;
    const eof = s.eof;
    s.eof = false;
    for (const chunk of early) s === p.plain ? plainData(p, chunk) : legData(p, chunk);
    if (eof) s === p.plain ? plainEnd(p) : legEnd(p);
    if (s.gone) s === p.plain ? plainClosed(p) : legClosed(p);
  }
  if (!p.finished) {
    if (!p.plain.paused && !p.plain.gone) p.plain.sock.resume();
    if (!p.leg.paused && !p.leg.gone) p.leg.sock.resume();
  }
}

function ready(p: StreamPipe): boolean {
  return p.plain.sock !== null && p.leg.sock !== null;
}

function hold(p: StreamPipe, side: Side, chunk: Uint8Array): void {
  side.early.push(chunk);
  side.earlyBytes += chunk.byteLength;
  side.sock?.pause();
  if (side.earlyBytes > STREAM_EARLY_LIMIT_BYTES) abortStream(p, "too many bytes before the stream was set up");
}

/** `data` of the plain socket. */
export function plainData(p: StreamPipe, chunk: Uint8Array): void {
  if (p.finished || p.endSealed) return;
  if (!ready(p)) return hold(p, p.plain, chunk);
  p.bytesOut += chunk.byteLength;
  const sealed = seal(p.sealer, chunk);
  release(chunk);
  toLeg(p, sealed);
}

function toLeg(p: StreamPipe, bytes: Uint8Array): void {
  p.sentSinceKeepalive = true;
  const r = send(p.leg.sock!, p.leg.q, bytes);
  if (r === "sent") return release(bytes);
  if (r === "closed") return abortStream(p, "relay leg closed");
  if (r === "overflow") return abortStream(p, "relay leg is not reading");
  if (!p.plain.paused && !p.plain.eof) {
    p.plain.paused = true;
    p.plain.sock!.pause();
  }
}

/**
 * Called every keepalive period of the session: a stream that sent nothing toward the leg since the last call
 * sends an empty record. Why: each stream is its own pair on the relay, which closes pairs idle for its idle
 * timeout (15 min by default), and an ssh session left open is idle for much longer. Both ends do this, so
 * each direction (and any NAT on either side) sees traffic.
 */
export function keepStreamAlive(p: StreamPipe): void {
  if (p.finished || p.endSealed || !ready(p)) return;
  if (p.sentSinceKeepalive) {
    p.sentSinceKeepalive = false;
    return;
  }
  if (p.leg.q.bytes === 0) toLeg(p, sealKeepalive(p.sealer));
}

/** `end` of the plain socket (its FIN): seal END and pass the FIN on once queued bytes are out. */
export function plainEnd(p: StreamPipe): void {
  if (p.finished) return;
  p.plain.eof = true;
  if (!ready(p) || p.endSealed) return;
  p.endSealed = true;
  toLeg(p, seal(p.sealer, new Uint8Array(0), true));
  if (!p.finished && p.leg.q.bytes === 0) shutLeg(p);
}

/** `drain` of the leg: write what is queued; once empty resume the plain source or pass on the FIN. */
export function legDrain(p: StreamPipe): void {
  if (p.finished || !p.leg.sock || !flush(p.leg.sock, p.leg.q)) return;
  if (p.plain.paused) {
    p.plain.paused = false;
    if (!p.plain.gone) p.plain.sock!.resume();
  }
  if (p.endSealed) shutLeg(p);
}

function shutLeg(p: StreamPipe): void {
  if (!p.leg.shut) {
    p.leg.shut = true;
    if (!p.leg.gone) p.leg.sock!.shutdown();
  }
  maybeFinish(p);
}

/** `data` of the leg: open records, write their plaintext to the plain socket. */
export function legData(p: StreamPipe, chunk: Uint8Array): void {
  if (p.finished) return;
  if (!ready(p)) return hold(p, p.leg, chunk);
  let ended: boolean;
  try {
    ended = open(p.opener, chunk, (plaintext) => {
      p.bytesIn += plaintext.byteLength;
      if (!p.plain.gone) toPlain(p, plaintext);
    });
  } catch (e) {
    return abortStream(p, e instanceof TunnelError ? `${e.reason}: ${e.message}` : String(e));
  }
  release(chunk); // open() copied what it keeps (a record split across chunks)
  if (ended && !p.finished) {
    p.leg.eof = true;
    if (p.plain.q.bytes === 0) shutPlain(p);
  }
}

function toPlain(p: StreamPipe, bytes: Uint8Array): void {
  if (p.finished) return;
  const r = send(p.plain.sock!, p.plain.q, bytes);
  if (r === "sent") return release(bytes);
  if (r === "closed") {
    p.plain.gone = true;
    return;
  }
  if (r === "overflow") return abortStream(p, "local socket is not reading");
  if (!p.leg.paused) {
    p.leg.paused = true;
    p.leg.sock!.pause();
  }
}

/** `drain` of the plain socket. */
export function plainDrain(p: StreamPipe): void {
  if (p.finished || !p.plain.sock || !flush(p.plain.sock, p.plain.q)) return;
  if (p.leg.paused) {
    p.leg.paused = false;
    if (!p.leg.gone) p.leg.sock!.resume();
  }
  if (p.leg.eof) shutPlain(p);
}

function shutPlain(p: StreamPipe): void {
  if (!p.plain.shut) {
    p.plain.shut = true;
    if (!p.plain.gone) p.plain.sock!.shutdown();
  }
  maybeFinish(p);
}

/** `end` of the leg (TCP FIN): fine after the END record, a truncation before it. */
export function legEnd(p: StreamPipe): void {
  if (p.finished) return;
  if (!ready(p)) {
    p.leg.eof = true;
    return;
  }
  if (!p.leg.eof) abortStream(p, "truncated: the peer's stream ended without its END record");
}

/** `close` of the plain socket: no more input from it (and nothing more can be written to it). */
export function plainClosed(p: StreamPipe): void {
  if (p.finished) return;
  p.plain.gone = true;
  if (!ready(p)) return;
  p.plain.q.chunks.length = 0;
  p.plain.q.bytes = 0;
  if (!p.endSealed) plainEnd(p);
  maybeFinish(p);
}

/** `close` of the leg. */
export function legClosed(p: StreamPipe): void {
  if (p.finished) return;
  p.leg.gone = true;
  if (!ready(p)) return;
  if (!p.leg.eof) return abortStream(p, "truncated: the relay leg closed before the peer's END record");
  maybeFinish(p);
}

function maybeFinish(p: StreamPipe): void {
  if (p.finished) return;
  const outDone = p.leg.shut || p.leg.gone; // our END is on its way (or the leg is gone after theirs)
  const inDone = p.plain.shut || p.plain.gone; // their bytes and FIN reached the app (or the app left)
  if (!(outDone && inDone)) {
    // The app left and our END is out: nothing more can be delivered either way.
    if (p.plain.gone && p.leg.shut && p.leg.q.bytes === 0) return finish(p, "done");
    // The leg is gone after their END: the app got everything it will get.
    if (p.leg.gone && p.leg.eof && p.plain.q.bytes === 0) return finish(p, "done");
    return;
  }
  finish(p, "done");
}

function finish(p: StreamPipe, reason: string): void {
  p.finished = true;
  if (p.leg.sock && !p.leg.gone) p.leg.sock.end();
  if (p.plain.sock && !p.plain.gone) p.plain.sock.end();
  p.onEnd({ reason, bytesOut: p.bytesOut, bytesIn: p.bytesIn });
}

/**
 * Frees a large buffer we are done with at once instead of leaving it to the GC: Bun hands each `data` event a
 * fresh buffer of up to ~512 KiB and node:crypto returns fresh ones too, and garbage that waits for collection is
 * what makes a busy Bun forwarder's RSS balloon (perf/ANCHORS.md). Only a buffer the view covers entirely is
 * freed, so a shared or pooled one is never touched.
 */
function release(view: Uint8Array): void {
  const buf = view.buffer as ArrayBuffer;
  if (buf.detached || view.byteLength < RELEASE_MIN_BYTES || view.byteOffset !== 0 || view.byteLength !== buf.byteLength) return;
  buf.transfer(0);
}

/** Bytes the stream holds in user space right now (both queues and anything held before set-up). */
export function queuedBytes(p: StreamPipe): number {
  return p.plain.q.bytes + p.leg.q.bytes + p.plain.earlyBytes + p.leg.earlyBytes;
}

/** Ends the stream at once: both sockets are terminated (the app sees a reset, not a clean end). */
export function abortStream(p: StreamPipe, reason: string): void {
  if (p.finished) return;
  p.finished = true;
  for (const s of [p.plain, p.leg]) {
    s.q.chunks.length = 0;
    s.q.bytes = 0;
    s.early.length = 0;
    if (s.sock && !s.gone) s.sock.terminate();
  }
  p.onEnd({ reason, bytesOut: p.bytesOut, bytesIn: p.bytesIn });
}
