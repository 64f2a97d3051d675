/**
 * Test helpers for the relay: legs that dial a relay, collect what they receive (hash + byte count) and write
 * with real backpressure. Used by relay tests and the memory measurement; not part of the relay.
 */
import { createHash, type Hash } from "node:crypto";
import type { AtSignSigningKey } from "../core/crypto/tunnel/at_sign_signature.ts";
import { type RelayLegSocket, dialRelay } from "../core/relay/dial_relay.ts";
import type { RelaySide } from "../core/relay/wire.ts";

/** A connected leg with its receive side summarised. */
export interface TestLeg {
  socket: RelayLegSocket;
  bytesIn: number;
  hashIn: Hash;
  /** Set to keep received chunks (small tests only). */
  keep: Uint8Array[] | null;
  ended: Promise<void>;
  closed: Promise<void>;
  /** Writes everything, waiting on `drain` when the socket pushes back. */
  writeAll(bytes: Uint8Array): Promise<void>;
  /** Resolves once at least `n` bytes arrived. */
  waitBytes(n: number): Promise<void>;
}

/** Dials `port` on 127.0.0.1 as one leg. */
export async function testLeg(
  port: number,
  o: { sessionId: string; side: RelaySide; atSign: string; peerAtSign: string; key: AtSignSigningKey; keep?: boolean; relayAtSign?: string; halfOpen?: boolean },
): Promise<TestLeg> {
  let drained: (() => void) | null = null;
  let onEnded!: () => void;
  let onClosed!: () => void;
  const waiters: { n: number; resolve(): void }[] = [];
  const leg = {
    bytesIn: 0,
    hashIn: createHash("sha256"),
    keep: o.keep ? [] : null,
    ended: new Promise<void>((r) => (onEnded = r)),
    closed: new Promise<void>((r) => (onClosed = r)),
  } as TestLeg;
  const wake = () => {
    for (let i = waiters.length - 1; i >= 0; i--) {
      if (leg.bytesIn >= waiters[i]!.n) waiters.splice(i, 1)[0]!.resolve();
    }
  };
  leg.socket = await dialRelay({
    host: "127.0.0.1",
    port,
    sessionId: o.sessionId,
    side: o.side,
    atSign: o.atSign,
    peerAtSign: o.peerAtSign,
    key: o.key,
    relayAtSign: o.relayAtSign,
    handlers: {
      data(_s, chunk) {
        leg.bytesIn += chunk.byteLength;
        leg.hashIn.update(chunk);
        leg.keep?.push(chunk);
        wake();
      },
      drain() {
        const d = drained;
        drained = null;
        d?.();
      },
      end(s) {
        onEnded();
        // Like most applications, close once the peer is done, unless the test drives half-close itself.
        if (!o.halfOpen) s.end();
      },
      close() {
        onEnded();
        onClosed();
        const d = drained;
        drained = null;
        d?.();
        for (const w of waiters.splice(0)) w.resolve();
      },
    },
  });
  leg.writeAll = async (bytes) => {
    let off = 0;
    while (off < bytes.byteLength) {
      const n = leg.socket.write(bytes.subarray(off));
      if (n < 0) throw new Error("socket closed while writing");
      off += n;
      if (off < bytes.byteLength) await new Promise<void>((r) => (drained = r));
    }
  };
  leg.waitBytes = (n) => (leg.bytesIn >= n ? Promise.resolve() : new Promise<void>((resolve) => waiters.push({ n, resolve })));
  return leg;
}

/** Dials both legs of a session at once. */
export async function testPair(
  port: number,
  sessionId: string,
  a: { atSign: string; key: AtSignSigningKey },
  b: { atSign: string; key: AtSignSigningKey },
  keep = false,
  halfOpen = false,
): Promise<[TestLeg, TestLeg]> {
  return Promise.all([
    testLeg(port, { sessionId, side: "a", atSign: a.atSign, peerAtSign: b.atSign, key: a.key, keep, halfOpen }),
    testLeg(port, { sessionId, side: "b", atSign: b.atSign, peerAtSign: a.atSign, key: b.key, keep, halfOpen }),
  ]);
}
