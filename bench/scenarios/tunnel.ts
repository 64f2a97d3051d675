/**
 * `tunnel` (issue 8): the end-to-end-encrypted tunnel. Measured now: its data plane — AES-256-GCM records
 * (core/crypto/tunnel/record.ts) on one stream, over the direct loopback path and through the relay — and the
 * cost of its key agreement (two signed X25519 offers, accept, stream keys). The full tunnel (daemon, local
 * listener, `tunnel` command, time to first byte) is reported not available until it exists.
 */
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { acceptTunnelOffer, createTunnelOffer, streamKeys } from "../../core/crypto/tunnel/handshake.ts";
import { dialTcp, measureStreams, startSink, type Dial } from "../loadgen.ts";
import { repoPath } from "../load_part.ts";
import { dialRelayPair, startRelayPath, BENCH_LEG_ATSIGNS } from "../relay_path.ts";
import { DIRECT_PATH, type Scenario } from "../scenario.ts";
import { recordCounter, sealedEndpoint, startRecordSink } from "../sealed_endpoint.ts";

/** Where the tunnel client is expected (issue 8: `bun client.ts tunnel`). */
const TUNNEL_CLIENT = "client/tunnel/index.ts";
const GROUP = "1 stream, tunnel data plane";

/** The `tunnel` scenario. */
export const tunnelScenario: Scenario = {
  name: "tunnel",
  description: "tunnel data plane (AES-256-GCM records) direct and through the relay, key agreement cost; full tunnel when built",
  targets: [
    { metric: "tunnel_stream1_inlay", op: ">=", value: 3, unit: "Gbit/s", source: "issue 8" },
    { metric: "tunnel_ready_ms", op: "<=", value: 100, unit: "ms", source: "issue 8" },
  ],
  async run(ctx) {
    const ms = ctx.pick(3_000, 500);
    const warmupMs = ctx.pick(1_000, 200);
    const key = randomBytes(32);
    const one = async (path: string, id: string, dial: Dial, received: () => number) => {
      ctx.progress(`1 stream, ${path}`);
      const r = await measureStreams(dial, received, { conns: 1, ms, warmupMs });
      ctx.metric({ id, label: `${GROUP}, ${path}`, value: r.gbitPerSecond, unit: "Gbit/s", group: GROUP, path });
    };

    const sink = startSink();
    ctx.defer(() => sink.stop());
    await one(DIRECT_PATH, "plane_direct", () => dialTcp(sink.port), sink.bytes);
    const recordSink = startRecordSink(key);
    ctx.defer(() => recordSink.stop());
    await one("direct + records", "plane_direct_records", async () => sealedEndpoint(await dialTcp(recordSink.port), key), recordSink.bytes);
    const relay = await startRelayPath(ctx);
    const count = { bytes: 0 };
    await one("inlay relay + records", "plane_relay_records", async () => sealedEndpoint(await dialRelayPair(relay, { consume: recordCounter(key, count) }), key), () => count.bytes);
    await relay.child.stop();

    // Key agreement as both ends run it (signing, verifying, X25519, HKDF), without the notification round trips.
    const [a, b] = BENCH_LEG_ATSIGNS;
    const rec = ctx.latency();
    await ctx.loop({ ms: ctx.pick(1_000, 200) }, () => {
      const t = Bun.nanoseconds();
      const sessionId = crypto.randomUUID();
      const mine = createTunnelOffer({ sessionId, role: "initiator", atSign: a, peerAtSign: b, key: relay.keys[a] });
      const theirs = createTunnelOffer({ sessionId, role: "responder", atSign: b, peerAtSign: a, key: relay.keys[b] });
      streamKeys(acceptTunnelOffer(mine, theirs.offer, relay.publicKeys[b]), 0);
      streamKeys(acceptTunnelOffer(theirs, mine.offer, relay.publicKeys[a]), 0);
      rec.recordSince(t);
    });
    const h = rec.summary();
    ctx.metric({ id: "handshake_p50", label: "tunnel key agreement, both sides (offers, verify, X25519, HKDF), p50", value: h.p50, unit: "µs", histogram: h });

    if (!existsSync(repoPath(TUNNEL_CLIENT))) ctx.note(`full tunnel (daemon, local listener, time to first byte): not available: ${TUNNEL_CLIENT} is not built yet`);
    else ctx.note(`full tunnel: ${TUNNEL_CLIENT} exists but is not wired into the bench yet`);
  },
};
