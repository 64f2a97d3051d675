/**
 * A relay fleet with real relays, a real daemon and real tunnels: the fastest pick skips a draining relay and one
 * that is down (both ends' probes), a relay killed while a session is set up on it makes the tunnel go on to the
 * next, and a drained relay keeps its live session flowing while new tunnels go elsewhere.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { RelayAddress } from "../../client/tunnel/tunnel_client.ts";
import { type RelayHandle, startRelay } from "../../relay/index.ts";
import { type TunnelWorld, connectTest, startRefuseNthProxy, startTripwireProxy, startTunnelWorld, until } from "./fixture.ts";

const TOKEN = "fleet-test-token";
let w: TunnelWorld;
const extra: RelayHandle[] = [];
beforeAll(async () => {
  w = await startTunnelWorld();
}, 60_000);
afterAll(async () => {
  for (const r of extra) await r.stop();
  await w?.stop();
});

async function relay(): Promise<RelayHandle> {
  const r = await startRelay({ relayAtSign: "@relay", host: "127.0.0.1", port: 0, adminPort: 0, adminToken: TOKEN, resolvePublicKey: w.resolvePublicKey });
  extra.push(r);
  return r;
}
const at = (port: number): RelayAddress => ({ host: "127.0.0.1", port, atSign: "@relay" });

/** A port nothing listens on (a relay that is down). */
function closedPort(): number {
  const l = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const port = l.port;
  l.stop(true);
  return port;
}

async function echoOnce(port: number, text: string): Promise<void> {
  const c = await connectTest(port);
  await c.write(text);
  await until(() => c.bytes() === text.length, 10_000, `echo of ${text}`);
  expect(new TextDecoder().decode(c.received())).toBe(text);
  c.sock.end();
}

describe("relay fleet", () => {
  test("fastest: a draining relay and one that is down are not used; the choice is reported", async () => {
    const draining = await relay();
    const good = await relay();
    void draining.drain();
    const fleet = [at(closedPort()), at(draining.port), at(good.port)];
    const before = draining.stats().refused.draining;
    await w.withTunnel({ tunnel: { relay: fleet } }, async (t) => {
      const used = t.tunnel.relay()!;
      expect(used.relay.port).toBe(good.port);
      expect(used.how).toBe("fastest");
      expect(used.deviceMeasured).toBe(true); // the daemon's figures came back over the control channel
      expect(used.skipped).toEqual([{ relay: fleet[1]!, reason: "draining" }]);
      expect(used.failed).toEqual([]);
      await echoOnce(t.tunnel.port, "via the fastest relay");
    });
    // Skipped on the probes' word: no leg was even tried there.
    expect(draining.stats().refused.draining).toBe(before);
    expect(draining.stats().probesTotal).toBeGreaterThanOrEqual(2); // requester and device
    draining.undrain();
  }, 60_000);

  test("a relay killed while the session is set up on it: the tunnel goes on to the next and works", async () => {
    const doomed = await relay();
    const next = await relay();
    const proxy = startTripwireProxy(doomed.port, () => void doomed.stop());
    await w.withTunnel({ tunnel: { relay: [at(proxy.port), at(next.port)], pick: "order" } }, async (t) => {
      const used = t.tunnel.relay()!;
      expect(used.relay.port).toBe(next.port);
      expect(used.failed.map((f) => f.relay.port)).toEqual([proxy.port]);
      expect(used.failed[0]!.reason).toMatch(/relay/);
      await echoOnce(t.tunnel.port, "after the fallback");
    });
  }, 60_000);

  // Without the device's ack (relay: true) the requester would wait for its pending leg until the set-up deadline.
  test("a relay the device cannot join: the device says so and the tunnel goes on to the next", async () => {
    const unjoinable = await relay();
    const next = await relay();
    // Connection 1 is the requester's session leg (it dials at once), connection 2 the device's.
    const proxy = startRefuseNthProxy(unjoinable.port, 2);
    try {
      // A 30 s set-up deadline: the abandoned leg's own deadline and the relay's TTL are both past the wait below.
      await w.withTunnel({ tunnel: { relay: [at(proxy.port), at(next.port)], pick: "order", setupTimeoutMs: 30_000 } }, async (t) => {
        const used = t.tunnel.relay()!;
        expect(used.relay.port).toBe(next.port);
        expect(used.failed[0]!.reason).toContain("@device cannot join the relay");
        await echoOnce(t.tunnel.port, "the device joined this one");
        // The requester's own leg that waited there was given up at once, not left until the relay's TTL (30 s).
        await until(() => unjoinable.stats().pending === 0, 10_000, "the abandoned leg closed");
      });
    } finally {
      proxy.stop(true);
    }
  }, 60_000);

  test("drained: the live session keeps flowing and opening streams; a new tunnel goes to another relay", async () => {
    const first = await relay();
    const second = await relay();
    const fleet = [at(first.port), at(second.port)];
    await w.withTunnel({ tunnel: { relay: fleet, pick: "order" } }, async (t) => {
      expect(t.tunnel.relay()!.relay.port).toBe(first.port);
      const live = await connectTest(t.tunnel.port);
      await live.write("before");
      await until(() => live.bytes() === 6, 10_000, "echo before the drain");

      const r = await fetch(`http://127.0.0.1:${first.adminPort}/drain`, { method: "POST", headers: { authorization: `Bearer ${TOKEN}` } });
      expect(r.status).toBe(202);
      await live.write(" after");
      await until(() => live.bytes() === 12, 10_000, "echo after the drain");
      // A new connection of the live tunnel is a new stream leg of its session: still paired on the drained relay.
      await echoOnce(t.tunnel.port, "new stream, same session");
      expect(t.tunnel.relay()!.relay.port).toBe(first.port);

      // A new tunnel tries the drained relay first (order), is told it is draining, and uses the second.
      const t2 = await w.tunnel({ relay: fleet, pick: "order" });
      try {
        const used = t2.tunnel.relay()!;
        expect(used.relay.port).toBe(second.port);
        expect(used.failed[0]!.reason).toContain("draining");
        await echoOnce(t2.tunnel.port, "on the second relay");
      } finally {
        t2.stop();
      }
      expect(first.stats().refused.draining).toBeGreaterThanOrEqual(1);
      live.sock.end();
    });
  }, 60_000);
});
