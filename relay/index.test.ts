import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createHash, randomBytes, randomUUID } from "node:crypto";
import type { Socket } from "bun";
import { connect as connectTcp } from "node:net";
import { generateEd25519KeyPair } from "../core/crypto/ed25519.ts";
import { type KeyPairText, generateRsaKeyPair } from "../core/crypto/rsa.ts";
import type { AtSignSigningKey } from "../core/crypto/tunnel/at_sign_signature.ts";
import { signAsAtSign } from "../core/crypto/tunnel/at_sign_signer.ts";
import { RelayDialError } from "../core/relay/dial_relay.ts";
import { RELAY_PREAUTH_LIMIT_BYTES, encodeLegAuth, encodeLegAuthBody, legAuthSignedBytes, parseRelayHello } from "../core/relay/wire.ts";
import { type RelayHandle, startRelay } from "./index.ts";
import { cachedResolver } from "./public_key_resolver.ts";
import { testLeg, testPair } from "./test_legs.ts";

// Keys are generated once per file (RSA keygen is slow on this machine) and served by an in-test resolver;
// end-to-end runs against real atServers and the directory come with the client SDK.
let alice: { atSign: string; key: AtSignSigningKey; pair: KeyPairText };
let bob: { atSign: string; key: AtSignSigningKey; pair: KeyPairText };
let dev: { atSign: string; key: AtSignSigningKey; pair: KeyPairText };
let mallory: { atSign: string; key: AtSignSigningKey };
const keys = new Map<string, string>();
const resolvePublicKey = async (atSign: string) => keys.get(atSign) ?? null;
const limits = { preAuthTimeoutMs: 400, unpairedTtlMs: 400, queueLimitBytes: 1024 * 1024 };
let relay: RelayHandle;

beforeAll(async () => {
  const [a, b, d, m] = await Promise.all([generateRsaKeyPair(), generateRsaKeyPair(), generateEd25519KeyPair(), generateRsaKeyPair()]);
  alice = { atSign: "@alice", key: { algo: "rsa2048", privateKey: a.privateKey }, pair: a };
  bob = { atSign: "@bob", key: { algo: "rsa2048", privateKey: b.privateKey }, pair: b };
  dev = { atSign: "@dev", key: { algo: "ed25519", privateKey: d.privateKey }, pair: d };
  mallory = { atSign: "@alice", key: { algo: "rsa2048", privateKey: m.privateKey } }; // claims @alice, wrong key
  for (const p of [alice, bob, dev]) keys.set(p.atSign, p.pair.publicKey);
  relay = await startRelay({ relayAtSign: "@relay", host: "127.0.0.1", port: 0, adminPort: 0, resolvePublicKey, limits });
});

afterAll(async () => {
  await relay.stop();
});

async function until(cond: () => boolean, what: string, deadlineMs = 5_000): Promise<void> {
  const end = Date.now() + deadlineMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(5);
  }
}

const sid = () => randomUUID();

describe("startRelay() pairing", () => {
  test("pairs two legs with valid RSA and Ed25519 signatures and echoes both ways", async () => {
    const [a, b] = await testPair(relay.port, sid(), alice, dev, true);
    await a.writeAll(new TextEncoder().encode("ping"));
    await b.waitBytes(4);
    await b.writeAll(new TextEncoder().encode("pong!"));
    await a.waitBytes(5);
    expect(Buffer.concat(b.keep!).toString()).toBe("ping");
    expect(Buffer.concat(a.keep!).toString()).toBe("pong!");
    a.socket.end();
    await b.closed;
  });

  test("refuses a leg whose signature does not match the @sign's key", async () => {
    const before = relay.stats().refused.bad_signature;
    const p = testLeg(relay.port, { sessionId: sid(), side: "a", atSign: mallory.atSign, peerAtSign: "@bob", key: mallory.key });
    await expect(p).rejects.toBeInstanceOf(RelayDialError);
    expect(relay.stats().refused.bad_signature).toBe(before + 1);
  });

  test("refuses an unknown @sign", async () => {
    const before = relay.stats().refused.unknown_atsign;
    const p = testLeg(relay.port, { sessionId: sid(), side: "a", atSign: "@nobody", peerAtSign: "@bob", key: alice.key });
    await expect(p).rejects.toBeInstanceOf(RelayDialError);
    expect(relay.stats().refused.unknown_atsign).toBe(before + 1);
  });

  test("does not pair legs of different sessions; both expire unpaired", async () => {
    const before = relay.stats().refused.unpaired_timeout;
    const a = testLeg(relay.port, { sessionId: sid(), side: "a", atSign: "@alice", peerAtSign: "@bob", key: alice.key });
    const b = testLeg(relay.port, { sessionId: sid(), side: "b", atSign: "@bob", peerAtSign: "@alice", key: bob.key });
    const settled = await Promise.allSettled([a, b]);
    expect(settled.map((r) => r.status === "rejected" && r.reason instanceof RelayDialError)).toEqual([true, true]);
    expect(relay.stats().refused.unpaired_timeout).toBe(before + 2);
  });

  test("refuses a second leg that names the wrong peer, and keeps the waiting one", async () => {
    const id = sid();
    const before = relay.stats().refused.mismatch;
    const waiting = testLeg(relay.port, { sessionId: id, side: "a", atSign: "@alice", peerAtSign: "@bob", key: alice.key, keep: true });
    await until(() => relay.stats().pending >= 1, "first leg pending");
    const wrong = testLeg(relay.port, { sessionId: id, side: "b", atSign: "@dev", peerAtSign: "@alice", key: dev.key });
    await expect(wrong).rejects.toBeInstanceOf(RelayDialError);
    expect(relay.stats().refused.mismatch).toBe(before + 1);
    const right = await testLeg(relay.port, { sessionId: id, side: "b", atSign: "@bob", peerAtSign: "@alice", key: bob.key });
    const a = await waiting;
    await right.writeAll(Uint8Array.of(7));
    await a.waitBytes(1);
    a.socket.end();
    await right.closed;
  });

  test("refuses a replayed AUTH frame (the challenge differs per connection)", async () => {
    const id = sid();
    // First connection: a genuine AUTH, captured.
    const captured = await rawHandshake(relay.port, (hello) => {
      const body = encodeLegAuthBody({ sessionId: id, side: "a", atSign: "@alice", peerAtSign: "@bob", algo: "rsa2048" });
      return encodeLegAuth(body, signAsAtSign(alice.key, legAuthSignedBytes(body, hello.challenge, hello.relayAtSign)));
    });
    await until(() => relay.stats().pending === 0, "genuine leg to expire");
    const before = relay.stats().refused.bad_signature;
    await rawHandshake(relay.port, () => captured.frame);
    await until(() => relay.stats().refused.bad_signature === before + 1, "replay refused");
  });

  test("refuses a session id that is already paired", async () => {
    const id = sid();
    const [a, b] = await testPair(relay.port, id, alice, bob);
    const before = relay.stats().refused.duplicate;
    await expect(testLeg(relay.port, { sessionId: id, side: "a", atSign: "@alice", peerAtSign: "@bob", key: alice.key })).rejects.toBeInstanceOf(RelayDialError);
    expect(relay.stats().refused.duplicate).toBe(before + 1);
    a.socket.end();
    await b.closed;
  });
});

describe("startRelay() listening", () => {
  test("takes IPv6 and IPv4 on one port by default", async () => {
    const r = await startRelay({ relayAtSign: "@relay", port: 0, resolvePublicKey, limits });
    try {
      expect(r.host === "::" || r.host === "0.0.0.0").toBe(true);
      for (const host of r.host === "::" ? ["::1", "127.0.0.1"] : ["127.0.0.1"]) {
        const hello = await new Promise<string>((resolve, reject) => {
          Bun.connect({
            hostname: host,
            port: r.port,
            socket: {
              data(s, chunk) {
                resolve(parseRelayHello(chunk)!.hello.relayAtSign);
                s.end();
              },
              error: (_s, e) => reject(e),
            },
          }).catch(reject);
        });
        expect(hello).toBe("@relay");
      }
    } finally {
      await r.stop();
    }
  });
});

describe("startRelay() pre-auth limits", () => {
  test("closes a connection that sends nothing before the pre-auth deadline", async () => {
    const before = relay.stats().refused.preauth_timeout;
    const closed = await rawConnect(relay.port, () => {});
    await closed;
    expect(relay.stats().refused.preauth_timeout).toBe(before + 1);
  });

  test("closes a connection that sends more than the pre-auth limit", async () => {
    const s = relay.stats().refused;
    const before = s.oversize + s.malformed;
    const junk = new Uint8Array(RELAY_PREAUTH_LIMIT_BYTES + 1024);
    new DataView(junk.buffer).setUint32(0, RELAY_PREAUTH_LIMIT_BYTES - 8);
    await rawConnect(relay.port, (sock) => sock.write(junk));
    const after = relay.stats().refused;
    expect(after.oversize + after.malformed).toBe(before + 1);
  });

  test("closes a connection that sends garbage", async () => {
    const before = relay.stats().refused.malformed;
    await rawConnect(relay.port, (sock) => sock.write(new Uint8Array([0, 0, 0, 3, 9, 9, 9])));
    expect(relay.stats().refused.malformed).toBe(before + 1);
  });
});

describe("startRelay() hostile strangers (issue 13)", () => {
  /** An AUTH frame for `atSign` with a signature of `sigBytes` random bytes (never valid). */
  const forgedAuth = (atSign: string, sigBytes: number) =>
    encodeLegAuth(encodeLegAuthBody({ sessionId: sid(), side: "a", atSign, peerAtSign: "@bob", algo: "rsa2048" }), randomBytes(sigBytes));

  test("a pre-auth flood from one address does not keep a legitimate pair out", async () => {
    const r = await startRelay({ relayAtSign: "@relay", host: "127.0.0.1", port: 0, resolvePublicKey, limits: { ...limits, preAuthTimeoutMs: 30_000, maxPreAuthConnections: 20, maxPreAuthPerAddress: 10 } });
    const flood: Socket<undefined>[] = [];
    try {
      for (let i = 0; i < 30; i++) flood.push(await Bun.connect({ hostname: "127.0.0.1", port: r.port, socket: { data() {} } }));
      await until(() => r.stats().connectionsTotal === 30, "the flood to be accepted");
      expect(r.stats().preAuth).toBe(10);
      await expectPairCarries(r.port);
    } finally {
      for (const f of flood) f.end();
      await r.stop();
    }
  });

  test("AUTH frames naming random @signs do not each cost a directory lookup", async () => {
    const lookups: string[] = [];
    const directory = async (atSign: string) => {
      lookups.push(atSign);
      return keys.get(atSign) ?? null;
    };
    const r = await startRelay({ relayAtSign: "@relay", host: "127.0.0.1", port: 0, resolvePublicKey: cachedResolver(directory, { lookupsPerAddress: 5 }), limits });
    try {
      // Wrong signature shape: refused before any lookup.
      await Promise.all(Array.from({ length: 10 }, (_, i) => rawConnect(r.port, (sock) => sock.write(forgedAuth(`@short${i}`, 10)))));
      expect(lookups).toEqual([]);
      // Right shape, invented names: the address's lookup budget stops them.
      await Promise.all(Array.from({ length: 30 }, (_, i) => rawConnect(r.port, (sock) => sock.write(forgedAuth(`@random${i}`, 256)))));
      expect(lookups.length).toBe(5);
      expect(r.stats().refused.lookup_throttled).toBe(25);
      // Names already known to be unknown are answered from the negative cache.
      await rawConnect(r.port, (sock) => sock.write(forgedAuth(lookups[0]!, 256)));
      expect(lookups.length).toBe(5);
    } finally {
      await r.stop();
    }
  });

  test("an address whose legs keep failing is closed at accept; a pair from another prefix still joins", async () => {
    const r = await startRelay({ relayAtSign: "@relay", host: "127.0.0.1", port: 0, resolvePublicKey, limits: { ...limits, failedLegsPerAddress: 3 } });
    /** Connects from 127.0.1.1 (another /24 than the pair's 127.0.0.1), writes `frame`, and resolves with what came back once closed. */
    const fromStranger = (frame: Uint8Array) =>
      new Promise<number>((resolve) => {
        let got = 0;
        const sock = connectTcp({ host: "127.0.0.1", port: r.port, localAddress: "127.0.1.1" }, () => sock.end(frame));
        sock.on("data", (b: Buffer) => (got += b.byteLength));
        sock.on("close", () => resolve(got));
        sock.on("error", () => {});
      });
    try {
      for (let i = 0; i < 3; i++) expect(await fromStranger(forgedAuth(`@forger${i}`, 10))).toBeGreaterThan(0);
      expect(r.stats().refused.bad_signature).toBe(3);
      // The fourth gets no HELLO at all: closed at accept.
      expect(await fromStranger(forgedAuth("@forger3", 10))).toBe(0);
      expect(r.stats().refused.penalized).toBe(1);
      await expectPairCarries(r.port);
    } finally {
      await r.stop();
    }
  });

  test("/metrics counts legs in the handshake, waiting and paired", async () => {
    const r = await startRelay({ relayAtSign: "@relay", host: "127.0.0.1", port: 0, adminPort: 0, resolvePublicKey, limits: { ...limits, preAuthTimeoutMs: 30_000, unpairedTtlMs: 30_000 } });
    const raw = await Bun.connect({ hostname: "127.0.0.1", port: r.port, socket: { data() {} } });
    try {
      const waiting = await rawHandshake(r.port, (hello) => {
        const body = encodeLegAuthBody({ sessionId: sid(), side: "a", atSign: "@alice", peerAtSign: "@bob", algo: "rsa2048" });
        return encodeLegAuth(body, signAsAtSign(alice.key, legAuthSignedBytes(body, hello.challenge, hello.relayAtSign)));
      });
      expect(waiting.frame.byteLength).toBeGreaterThan(0);
      const [a, b] = await testPair(r.port, sid(), alice, bob);
      await until(() => r.stats().pending === 1 && r.stats().preAuth === 1, "one leg waiting, one in the handshake");
      const metrics = await (await fetch(`http://127.0.0.1:${r.adminPort}/metrics`)).text();
      expect(metrics).toMatch(/^inlay_relay_preauth_connections 1$/m);
      expect(metrics).toMatch(/^inlay_relay_pending_legs 1$/m);
      expect(metrics).toMatch(/^inlay_relay_pairs 1$/m);
      expect(await (await fetch(`http://127.0.0.1:${r.adminPort}/healthz`)).json()).toEqual({ ok: true, pairs: 1, draining: false });
      a.socket.end();
      await b.closed;
    } finally {
      raw.end();
      await r.stop();
    }
  });
});

describe("startRelay() policy", () => {
  test("refuses @signs outside --allow and enforces sessions per @sign", async () => {
    const r = await startRelay({ relayAtSign: "@relay", host: "127.0.0.1", port: 0, resolvePublicKey, allow: ["@alice", "@bob"], limits: { ...limits, sessionsPerAtSign: 1 } });
    try {
      await expect(testLeg(r.port, { sessionId: sid(), side: "b", atSign: "@dev", peerAtSign: "@alice", key: dev.key })).rejects.toBeInstanceOf(RelayDialError);
      expect(r.stats().refused.not_allowed).toBe(1);
      const [a, b] = await testPair(r.port, sid(), alice, bob);
      await expect(testLeg(r.port, { sessionId: sid(), side: "a", atSign: "@alice", peerAtSign: "@bob", key: alice.key })).rejects.toBeInstanceOf(RelayDialError);
      expect(r.stats().refused.quota).toBe(1);
      a.socket.end();
      await b.closed;
    } finally {
      await r.stop();
    }
  });

  test("closes an idle session and one over its byte quota", async () => {
    const r = await startRelay({ relayAtSign: "@relay", host: "127.0.0.1", port: 0, resolvePublicKey, limits: { ...limits, idleTimeoutMs: 300, bytesPerSession: 1000 } });
    try {
      const [a, b] = await testPair(r.port, sid(), alice, bob);
      await Promise.all([a.closed, b.closed]);
      expect(r.stats().pairEnds.idle_timeout).toBe(1);
      const [c, d] = await testPair(r.port, sid(), alice, bob);
      c.socket.write(new Uint8Array(2000));
      await Promise.all([c.closed, d.closed]);
      expect(r.stats().pairEnds.byte_quota).toBe(1);
    } finally {
      await r.stop();
    }
  });
});

describe("startRelay() data path", () => {
  test("moves 64 MiB each way at once, checksummed", async () => {
    const [a, b] = await testPair(relay.port, sid(), alice, bob);
    const total = 64 * 1024 * 1024;
    const send = async (leg: typeof a) => {
      const block = randomBytes(1024 * 1024);
      const h = createHash("sha256");
      for (let i = 0; i < total / block.byteLength; i++) {
        block[0] = i;
        h.update(block);
        await leg.writeAll(new Uint8Array(block));
      }
      return h.digest("hex");
    };
    const [ha, hb] = await Promise.all([send(a), send(b), b.waitBytes(total), a.waitBytes(total)]);
    expect(b.bytesIn).toBe(total);
    expect(a.bytesIn).toBe(total);
    expect(b.hashIn.digest("hex")).toBe(ha);
    expect(a.hashIn.digest("hex")).toBe(hb);
    a.socket.end();
    await b.closed;
  }, 60_000);

  test("carries 100 concurrent pairs", async () => {
    // Its own relay: 200 legs signing at once outlast the shared relay's 400 ms handshake deadline on a busy machine.
    const r = await startRelay({ relayAtSign: "@relay", host: "127.0.0.1", port: 0, resolvePublicKey, limits: { ...limits, preAuthTimeoutMs: 30_000, unpairedTtlMs: 30_000 } });
    try {
      const pairs = await Promise.all(Array.from({ length: 100 }, () => testPair(r.port, sid(), alice, bob, true)));
      expect(r.stats().pairs).toBeGreaterThanOrEqual(100);
      await Promise.all(
        pairs.map(async ([a, b], i) => {
          await a.writeAll(new TextEncoder().encode(`hello ${i}`));
          await b.waitBytes(`hello ${i}`.length);
          expect(Buffer.concat(b.keep!).toString()).toBe(`hello ${i}`);
        }),
      );
      for (const [a] of pairs) a.socket.end();
      await Promise.all(pairs.map(([, b]) => b.closed));
    } finally {
      await r.stop();
    }
  });

  test("propagates half-close in each direction", async () => {
    const [a, b] = await testPair(relay.port, sid(), alice, bob, true, true);
    await a.writeAll(new TextEncoder().encode("request"));
    a.socket.shutdown();
    await b.ended;
    expect(Buffer.concat(b.keep!).toString()).toBe("request");
    const before = relay.stats().pairEnds.half_closed;
    await b.writeAll(new TextEncoder().encode("response"));
    b.socket.shutdown();
    await a.ended;
    expect(Buffer.concat(a.keep!).toString()).toBe("response");
    await Promise.all([a.closed, b.closed]);
    expect(relay.stats().pairEnds.half_closed).toBe(before + 1);
  });

  test("keeps its queue bounded for a slow reader and pauses the writer", async () => {
    const [a, b] = await testPair(relay.port, sid(), alice, bob);
    b.socket.pause();
    const total = 32 * 1024 * 1024;
    const pausesBefore = relay.stats().pipe.pauseEvents;
    const writing = a.writeAll(new Uint8Array(total));
    await until(() => relay.stats().pipe.pausedReads >= 1, "relay to pause the writer");
    let highest = 0;
    for (let i = 0; i < 20; i++) {
      highest = Math.max(highest, relay.stats().pipe.queuedBytes);
      await Bun.sleep(5);
    }
    expect(highest).toBeLessThanOrEqual(limits.queueLimitBytes);
    expect(relay.stats().pipe.queuedBytesHighWater).toBeLessThanOrEqual(limits.queueLimitBytes);
    b.socket.resume();
    await Promise.all([writing, b.waitBytes(total)]);
    expect(b.bytesIn).toBe(total);
    expect(relay.stats().pipe.pauseEvents).toBeGreaterThan(pausesBefore);
    a.socket.end();
    await b.closed;
  }, 30_000);

  test("stops all reading while the queues together are over budget, then resumes", async () => {
    const total = 512 * 1024;
    const r = await startRelay({ relayAtSign: "@relay", host: "127.0.0.1", port: 0, resolvePublicKey, limits: { ...limits, totalQueueLimitBytes: total } });
    try {
      const pairs = await Promise.all(Array.from({ length: 4 }, () => testPair(r.port, sid(), alice, bob)));
      for (const [, b] of pairs) b.socket.pause();
      const size = 16 * 1024 * 1024;
      const writes = pairs.map(([a]) => a.writeAll(new Uint8Array(size)));
      await until(() => r.stats().pipe.throttleEvents >= 1, "the total budget to be hit");
      for (const [, b] of pairs) b.socket.resume();
      await Promise.all([...writes, ...pairs.map(([, b]) => b.waitBytes(size))]);
      // Past the budget only reads already under way can add to the queue: at most one chunk per leg.
      expect(r.stats().pipe.queuedBytesHighWater).toBeLessThanOrEqual(total + pairs.length * 2 * 512 * 1024);
      for (const [a] of pairs) a.socket.end();
      await Promise.all(pairs.map(([, b]) => b.closed));
      await until(() => r.stats().pairs === 0, "pairs to end");
      expect(r.stats().pipe.queuedBytes).toBe(0);
    } finally {
      await r.stop();
    }
  }, 30_000);

  test("closes the other leg when a peer is killed mid-stream", async () => {
    const [a, b] = await testPair(relay.port, sid(), alice, bob);
    const writing = a.writeAll(new Uint8Array(8 * 1024 * 1024)).catch(() => {});
    await b.waitBytes(1);
    b.socket.terminate();
    await a.closed;
    await writing;
  });

  test("leaves no sessions, legs or queued bytes behind", async () => {
    await until(() => {
      const s = relay.stats();
      return s.preAuth === 0 && s.pending === 0 && s.pairs === 0;
    }, "relay to be empty");
    const s = relay.stats();
    expect(s.pipe.queuedBytes).toBe(0);
    expect(s.pipe.pausedReads).toBe(0);
    const metrics = await (await fetch(`http://127.0.0.1:${relay.adminPort}/metrics`)).text();
    expect(metrics).toContain(`inlay_relay_pairs 0`);
    expect(metrics).toMatch(/inlay_relay_atsign_sessions_total\{atsign="@alice"\} \d+/);
    expect(metrics).toMatch(/^inlay_relay_gc_total \d+$/m);
  });

  test("admin port: /healthz answers, other paths 404, other methods 405", async () => {
    const base = `http://127.0.0.1:${relay.adminPort}`;
    const health = await fetch(`${base}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ ok: true, pairs: 0, draining: false });
    const metrics = await fetch(`${base}/metrics`);
    expect(metrics.headers.get("content-type")).toBe("text/plain; version=0.0.4");
    await metrics.text();
    expect((await fetch(`${base}/nope`)).status).toBe(404);
    const post = await fetch(`${base}/metrics`, { method: "POST" });
    expect(post.status).toBe(405);
    expect(post.headers.get("allow")).toBe("GET, HEAD");
  });
});

/** A legitimate pair joins on `port` and carries a few bytes, then closes. */
async function expectPairCarries(port: number): Promise<void> {
  const [a, b] = await testPair(port, sid(), alice, bob);
  await a.writeAll(new TextEncoder().encode("hi"));
  await b.waitBytes(2);
  a.socket.end();
  await b.closed;
}

/** Connects without the leg helper; `act` may write. Resolves when the relay closes the connection. */
async function rawConnect(port: number, act: (s: Socket<undefined>) => void): Promise<void> {
  let closed!: () => void;
  const done = new Promise<void>((r) => (closed = r));
  const s = await Bun.connect({ hostname: "127.0.0.1", port, socket: { data() {}, close: () => closed(), error: () => closed() } });
  act(s);
  await done;
}

/** Reads HELLO, sends `frame(hello)`, and resolves with the frame once the relay has it (connection left open until the relay closes it). */
async function rawHandshake(port: number, frame: (hello: { challenge: Uint8Array; relayAtSign: string }) => Uint8Array): Promise<{ frame: Uint8Array }> {
  return new Promise((resolve, reject) => {
    let got = new Uint8Array(0);
    Bun.connect({
      hostname: "127.0.0.1",
      port,
      socket: {
        data(s, chunk) {
          got = new Uint8Array([...got, ...chunk]);
          const parsed = parseRelayHello(got);
          if (!parsed) return;
          const f = frame(parsed.hello);
          s.write(f);
          resolve({ frame: f });
        },
        close() {},
        error: (_s, e) => reject(e),
      },
    }).catch(reject);
  });
}
