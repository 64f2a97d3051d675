/**
 * The tunnel's data plane for the load generator: plaintext written to an endpoint leaves as AES-256-GCM
 * records (core/crypto/tunnel/record.ts), and the receiving side opens them, checking every tag. Used to
 * measure what encryption costs on the direct path and through the relay.
 */
import { newOpener, newSealer, open, seal } from "../core/crypto/tunnel/record.ts";
import type { Endpoint } from "./loadgen.ts";

/**
 * Wraps `inner` so writes are sealed. A write is taken whole once sealed; while a sealed chunk is still
 * partly unwritten further writes take nothing, and `drain` fires when it is out.
 */
export function sealedEndpoint(inner: Endpoint, key: Uint8Array): Endpoint {
  const sealer = newSealer(key);
  let pending: Uint8Array | undefined;
  const on: Endpoint["on"] = {};
  const push = () => {
    while (pending) {
      const n = inner.write(pending);
      if (n < 0) return;
      if (n < pending.byteLength) {
        pending = pending.subarray(n);
        return;
      }
      pending = undefined;
    }
  };
  inner.on.drain = () => {
    push();
    if (!pending) on.drain?.();
  };
  inner.on.data = (c) => on.data?.(c);
  inner.on.close = () => on.close?.();
  return {
    write(plain) {
      if (pending) return 0;
      pending = seal(sealer, plain);
      push();
      return plain.byteLength;
    },
    end: () => inner.end(),
    on,
  };
}

/** A consumer of record bytes that opens them with `key` and counts the plaintext (throws on a bad tag). */
export function recordCounter(key: Uint8Array, count: { bytes: number }): (chunk: Uint8Array) => void {
  const opener = newOpener(key);
  return (chunk) => void open(opener, chunk, (p) => void (count.bytes += p.byteLength));
}

/** A loopback server that opens the records each connection sends (one opener per connection) and counts. */
export function startRecordSink(key: Uint8Array): { port: number; bytes(): number; stop(): void } {
  const count = { bytes: 0 };
  const l = Bun.listen<(chunk: Uint8Array) => void>({
    hostname: "127.0.0.1",
    port: 0,
    socket: {
      open(s) {
        s.data = recordCounter(key, count);
      },
      data(s, chunk) {
        s.data(chunk);
      },
    },
  });
  return { port: l.port, bytes: () => count.bytes, stop: () => l.stop(true) };
}
