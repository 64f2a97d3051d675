import { describe, expect, test } from "bun:test";
import { randomBytes } from "node:crypto";
import { gcm } from "@noble/ciphers/aes.js";
import { TUNNEL_RECORD_MAX_PLAINTEXT_BYTES, finishOpener, newOpener, newSealer, open, seal, sealKeepalive } from "./record.ts";
import { TunnelError } from "./tunnel_error.ts";

const key = Uint8Array.from({ length: 32 }, (_, i) => i);
const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");

/** Feeds `wire` to a fresh opener in pieces of the given sizes; returns the plaintext and whether END came. */
function openAll(wire: Uint8Array, pieces: number[] = [wire.byteLength], k: Uint8Array = key): { plain: Uint8Array; ended: boolean } {
  const o = newOpener(k);
  const out: Uint8Array[] = [];
  let at = 0;
  let ended = false;
  for (let i = 0; at < wire.byteLength; i++) {
    const n = Math.max(1, pieces[i % pieces.length]!);
    ended = open(o, wire.subarray(at, at + n), (p) => out.push(new Uint8Array(p)));
    at += n;
  }
  finishOpener(o);
  return { plain: new Uint8Array(Buffer.concat(out)), ended };
}

/** The TunnelError reason `f` throws, or "accepted". */
function reason(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    if (e instanceof TunnelError) return e.reason;
    throw e;
  }
  return "accepted";
}

function nonce(counter: number): Uint8Array {
  const n = new Uint8Array(12);
  new DataView(n.buffer).setUint32(8, counter);
  return n;
}

describe("seal() and open()", () => {
  test("seal() output matches a pinned vector and @noble/ciphers AES-256-GCM", () => {
    const wire = seal(newSealer(key), new TextEncoder().encode("inlay"), true);
    // header: END | 5 ; ciphertext and tag from the key 00..1f, nonce 0.
    const header = wire.subarray(0, 4);
    expect(hex(header)).toBe("80000005");
    expect(hex(wire.subarray(4))).toBe(hex(gcm(key, nonce(0), header).encrypt(new TextEncoder().encode("inlay"))));
    expect(hex(wire)).toBe("8000000567d2d9bfcc1ecca2532d5f0bbed7e3108830447717");
  });

  test("each record of a multi-record chunk uses the next nonce (cross-checked with @noble/ciphers)", () => {
    const pt = randomBytes(TUNNEL_RECORD_MAX_PLAINTEXT_BYTES + 100);
    const wire = seal(newSealer(key), pt);
    const firstEnd = 4 + TUNNEL_RECORD_MAX_PLAINTEXT_BYTES + 16;
    const second = wire.subarray(firstEnd);
    expect(hex(wire.subarray(0, 4))).toBe(TUNNEL_RECORD_MAX_PLAINTEXT_BYTES.toString(16).padStart(8, "0"));
    const opened = gcm(key, nonce(1), second.subarray(0, 4)).decrypt(second.subarray(4));
    expect(hex(opened)).toBe(hex(pt.subarray(TUNNEL_RECORD_MAX_PLAINTEXT_BYTES)));
  });

  test("a keepalive is one empty authenticated record: it opens to nothing and keeps the numbering", () => {
    const s = newSealer(key);
    const keepalive = sealKeepalive(s);
    expect(hex(keepalive.subarray(0, 4))).toBe("00000000");
    expect(keepalive.byteLength).toBe(4 + 16);
    expect(hex(keepalive.subarray(4))).toBe(hex(gcm(key, nonce(0), keepalive.subarray(0, 4)).encrypt(new Uint8Array(0))));
    const wire = Buffer.concat([keepalive, seal(s, Uint8Array.of(1, 2)), sealKeepalive(s), seal(s, new Uint8Array(0), true)]);
    const r = openAll(wire, [5]);
    expect(r.ended).toBe(true);
    expect([...r.plain]).toEqual([1, 2]);
    expect(reason(() => sealKeepalive(s))).toBe("malformed");
  });

  test("a dropped keepalive breaks the record numbering like any dropped record", () => {
    const s = newSealer(key);
    sealKeepalive(s);
    expect(reason(() => openAll(seal(s, Uint8Array.of(1), true)))).toBe("tampered");
  });

  const sizes = [0, 1, 15, 16, 17, TUNNEL_RECORD_MAX_PLAINTEXT_BYTES - 1, TUNNEL_RECORD_MAX_PLAINTEXT_BYTES, TUNNEL_RECORD_MAX_PLAINTEXT_BYTES + 1, 1024 * 1024];
  for (const size of sizes) {
    test(`open() recovers ${size} bytes split at arbitrary chunk boundaries`, () => {
      const pt = randomBytes(size);
      const s = newSealer(key);
      const wire = Buffer.concat([seal(s, pt.subarray(0, size >> 1)), seal(s, pt.subarray(size >> 1), true)]);
      for (const pieces of [[wire.byteLength], [1], [3, 5, 7], [4096, 1, 65536]]) {
        if (pieces[0] === 1 && size > 70_000) continue; // byte-by-byte only for small inputs (time)
        const r = openAll(wire, pieces);
        expect(r.ended).toBe(true);
        expect(hex(r.plain)).toBe(hex(pt));
      }
    });
  }
});

describe("open() refuses bad streams with a TunnelError", () => {
  const s = newSealer(key);
  const r0 = seal(s, new TextEncoder().encode("first record"));
  const r1 = seal(s, new TextEncoder().encode("second record"));
  const end = seal(s, new Uint8Array(0), true);
  const wire = Buffer.concat([r0, r1, end]);

  test("every single-bit flip is detected", () => {
    for (let i = 0; i < wire.byteLength; i++) {
      for (let bit = 0; bit < 8; bit++) {
        const bad = new Uint8Array(wire);
        bad[i]! ^= 1 << bit;
        expect(reason(() => openAll(bad))).not.toBe("accepted");
      }
    }
  });

  const cases: { name: string; wire: Uint8Array; want: string; k?: Uint8Array }[] = [
    { name: "a replayed record", wire: Buffer.concat([r0, r0, r1, end]), want: "tampered" },
    { name: "reordered records", wire: Buffer.concat([r1, r0, end]), want: "tampered" },
    { name: "a dropped record", wire: Buffer.concat([r0, end]), want: "tampered" },
    { name: "a missing end record", wire: Buffer.concat([r0, r1]), want: "truncated" },
    { name: "a stream cut inside a record", wire: wire.subarray(0, wire.byteLength - 3), want: "truncated" },
    { name: "bytes after the end record", wire: Buffer.concat([wire, r0]), want: "malformed" },
    { name: "a record longer than the limit", wire: Uint8Array.of(0x7f, 0xff, 0xff, 0xff), want: "malformed" },
    { name: "the wrong key", wire, want: "tampered", k: randomBytes(32) },
  ];
  for (const c of cases) {
    test(`rejects ${c.name} (${c.want})`, () => {
      expect(reason(() => openAll(c.wire, [c.wire.byteLength], c.k))).toBe(c.want);
    });
  }

  test("seal() refuses input after the end record", () => {
    const t = newSealer(key);
    seal(t, new Uint8Array(0), true);
    expect(reason(() => seal(t, Uint8Array.of(1)))).toBe("malformed");
  });
});
