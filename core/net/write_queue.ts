/**
 * Partial-write handling for Bun sockets.
 *
 * Bun's `socket.write()` returns how many bytes the kernel took and drops the rest, so every writer keeps the
 * unwritten tail and retries it on `drain`. The queue holds the caller's buffers (no copies) and is bounded in
 * bytes: a peer that does not read cannot make us hold more than `limitBytes`.
 */
export interface Writable {
  write(data: Uint8Array | string): number;
}

/** Per-socket outgoing state. Keep one in `socket.data`. */
export interface WriteQueue {
  chunks: Uint8Array[];
  bytes: number;
  /** Above this many queued bytes `send` reports overflow; the caller decides (close, pause the source). */
  limitBytes: number;
}

/** Default bound on queued outgoing bytes per socket. */
export const WRITE_QUEUE_LIMIT_BYTES = 16 * 1024 * 1024;

export function newWriteQueue(limitBytes = WRITE_QUEUE_LIMIT_BYTES): WriteQueue {
  return { chunks: [], bytes: 0, limitBytes };
}

const encoder = new TextEncoder();

/** What `send` did: everything went to the kernel, some is queued, the queue is over its limit, or the socket is closed. */
export type SendResult = "sent" | "queued" | "overflow" | "closed";

/**
 * Writes what the socket takes now and queues the rest for `flush` (call it from the `drain` handler).
 * @example if (send(s, s.data.out, bytes) !== "sent") src.pause();
 */
export function send(s: Writable, q: WriteQueue, data: Uint8Array | string): SendResult {
  const bytes = typeof data === "string" ? encoder.encode(data) : data;
  if (q.chunks.length > 0) return enqueue(q, bytes);
  const n = s.write(bytes);
  if (n < 0) return "closed";
  if (n >= bytes.byteLength) return "sent";
  return enqueue(q, bytes.subarray(n));
}

function enqueue(q: WriteQueue, bytes: Uint8Array): SendResult {
  q.chunks.push(bytes);
  q.bytes += bytes.byteLength;
  return q.bytes > q.limitBytes ? "overflow" : "queued";
}

/** Writes queued bytes until the socket pushes back. Returns true when the queue is empty. */
export function flush(s: Writable, q: WriteQueue): boolean {
  while (q.chunks.length > 0) {
    const head = q.chunks[0]!;
    const n = s.write(head);
    if (n < 0) {
      q.chunks.length = 0;
      q.bytes = 0;
      return true;
    }
    q.bytes -= Math.max(n, 0);
    if (n < head.byteLength) {
      q.chunks[0] = head.subarray(n);
      return false;
    }
    q.chunks.shift();
  }
  return true;
}
