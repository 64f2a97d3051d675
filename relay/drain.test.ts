/**
 * Draining a relay for maintenance: the admin route (token), refusals with the DRAINING byte and their metrics
 * reason, live pairs and the stream legs of live sessions carried on, probes that say so, the deadline.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { randomUUID } from "node:crypto";
import { generateRsaKeyPair } from "../core/crypto/rsa.ts";
import type { AtSignSigningKey } from "../core/crypto/tunnel/at_sign_signature.ts";
import { RelayDialError } from "../core/relay/dial_relay.ts";
import { probeRelay } from "../core/relay/probe_relay.ts";
import { type RelayHandle, startRelay } from "./index.ts";
import { testLeg, testPair } from "./test_legs.ts";

const TOKEN = "drain-test-token";
let alice: { atSign: string; key: AtSignSigningKey };
let bob: { atSign: string; key: AtSignSigningKey };
const keys = new Map<string, string>();
let relay: RelayHandle;
let admin: string;

beforeAll(async () => {
  const [a, b] = await Promise.all([generateRsaKeyPair(), generateRsaKeyPair()]);
  alice = { atSign: "@alice", key: { algo: "rsa2048", privateKey: a.privateKey } };
  bob = { atSign: "@bob", key: { algo: "rsa2048", privateKey: b.privateKey } };
  keys.set("@alice", a.publicKey);
  keys.set("@bob", b.publicKey);
  relay = await startRelay({ relayAtSign: "@relay", host: "127.0.0.1", port: 0, adminPort: 0, adminToken: TOKEN, resolvePublicKey: async (x) => keys.get(x) ?? null });
  admin = `http://127.0.0.1:${relay.adminPort}`;
});
afterAll(async () => {
  await relay.stop();
});

const drainRoute = (method: string, token: string | null, query = "") =>
  fetch(`${admin}/drain${query}`, { method, headers: token === null ? {} : { authorization: `Bearer ${token}` } });

describe("drain", () => {
  test("the admin route needs the token and a sane deadline", async () => {
    expect((await drainRoute("POST", null)).status).toBe(401);
    expect((await drainRoute("POST", "wrong")).status).toBe(401);
    expect((await drainRoute("GET", TOKEN)).status).toBe(405);
    const bad = await drainRoute("POST", TOKEN, "?deadline=soon");
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: string }).error).toContain("whole seconds");
    expect(relay.draining()).toBe(false);
    const noToken = await startRelay({ relayAtSign: "@relay", host: "127.0.0.1", port: 0, adminPort: 0, resolvePublicKey: async () => null });
    try {
      const r = await fetch(`http://127.0.0.1:${noToken.adminPort}/drain`, { method: "POST", headers: { authorization: "Bearer " } });
      expect(r.status).toBe(403);
    } finally {
      await noToken.stop();
    }
  });

  test("a live pair keeps flowing, its stream legs still pair, new sessions are refused with the reason", async () => {
    const sid = randomUUID();
    const [a, b] = await testPair(relay.port, sid, alice, bob);
    expect(await probeRelay({ host: "127.0.0.1", port: relay.port, atSign: "@relay" })).toMatchObject({ draining: false });
    // Its outcome is taken at once: it rejects while the test is still awaiting the drain route.
    const waiting = testLeg(relay.port, { sessionId: randomUUID(), side: "a", atSign: "@alice", peerAtSign: "@bob", key: alice.key }).then(() => null, (x: unknown) => x);
    await until(() => relay.stats().pending === 1, "a leg waiting for its peer");

    const r = await drainRoute("POST", TOKEN);
    expect(r.status).toBe(202);
    expect(await r.json()).toMatchObject({ draining: true, pairs: 1 });
    expect((await fetch(`${admin}/readyz`)).status).toBe(503);
    expect(await (await fetch(`${admin}/healthz`)).json()).toMatchObject({ draining: true });

    // The leg that was waiting for a new session is told at once.
    const e = await waiting;
    expect(e).toBeInstanceOf(RelayDialError);
    expect((e as RelayDialError).draining).toBe(true);
    // So is a new one, before any signature is checked.
    const fresh = await testLeg(relay.port, { sessionId: randomUUID(), side: "a", atSign: "@alice", peerAtSign: "@bob", key: alice.key }).then(() => null, (x: unknown) => x);
    expect((fresh as RelayDialError).draining).toBe(true);
    expect((fresh as Error).message).toContain("draining");
    expect(relay.stats().refused.draining).toBe(2);
    // A probe hears it.
    expect(await probeRelay({ host: "127.0.0.1", port: relay.port })).toMatchObject({ draining: true });

    // The live pair flows on, and a stream of its session still pairs.
    await a.writeAll(new TextEncoder().encode("still here"));
    await b.waitBytes(10);
    const [sa, sb] = await testPair(relay.port, `${sid}.1`, alice, bob);
    await sb.writeAll(new TextEncoder().encode("stream"));
    await sa.waitBytes(6);
    const metrics = await (await fetch(`${admin}/metrics`)).text();
    expect(metrics).toMatch(/^inlay_relay_draining 1$/m);
    expect(metrics).toMatch(/^inlay_relay_refused_total\{reason="draining"\} 2$/m);

    // Once the last pair is gone, drain() resolves; DELETE takes sessions again.
    const done = relay.drain();
    sa.socket.end();
    a.socket.end();
    await done;
    expect(relay.stats().pairs).toBe(0);
    expect((await drainRoute("DELETE", TOKEN)).status).toBe(200);
    expect(relay.draining()).toBe(false);
    const [x] = await testPair(relay.port, randomUUID(), alice, bob);
    x.socket.end();
  });

  test("pairs still open at the deadline are ended as drained", async () => {
    const [a] = await testPair(relay.port, randomUUID(), alice, bob);
    const before = relay.stats().pairEnds.drained;
    await relay.drain(50);
    await a.closed;
    expect(relay.stats().pairEnds.drained).toBe(before + 1);
    relay.undrain();
  });
});

async function until(cond: () => boolean, what: string, deadlineMs = 10_000): Promise<void> {
  const end = Date.now() + deadlineMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(5);
  }
}
