/**
 * `tunnel` (issue 8): the end-to-end-encrypted tunnel. Its data plane alone — AES-256-GCM records
 * (core/crypto/tunnel/record.ts) on one stream, over the direct loopback path and through the relay — and the
 * cost of its key agreement (two signed X25519 offers, accept, stream keys); then the whole tunnel with every
 * part in its own process: time to ready and to the first byte, 64 B round trips, one stream, RSS.
 */
import { randomBytes } from "node:crypto";
import { acceptTunnelOffer, createTunnelOffer, streamKeys } from "../../core/crypto/tunnel/handshake.ts";
import type { BenchContext } from "../context.ts";
import { dialTcp, measureStreams, measureStreamsInterleaved, median, pingInterleaved, startEcho, startSink, type Sink, type StreamPath } from "../loadgen.ts";
import { startForwarders } from "../peers.ts";
import { dialRelayPair, startRelayPath, BENCH_LEG_ATSIGNS } from "../relay_path.ts";
import { DIRECT_PATH, NotAvailable, type Scenario } from "../scenario.ts";
import { recordCounter, sealedEndpoint, startRecordSink } from "../sealed_endpoint.ts";
import { startTunnelWorld, type TunnelProcess } from "../tunnel_world.ts";

const GROUP = "1 stream";
/** Path name of the full tunnel (local listener → tunnel → relay → daemon → target). */
const TUNNEL_PATH = "inlay tunnel";

/** Interleaved rounds of the one-stream comparison. */
const STREAM_ROUNDS = 3;

/** Longest wait for the first byte through a fresh tunnel (it normally takes well under 100 ms). */
const FIRST_ECHO_TIMEOUT_MS = 10_000;

/** Connects to `port`, sends one byte and resolves once it came back from the echo behind the path. */
async function firstEcho(port: number): Promise<void> {
  const ep = await dialTcp(port);
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    await new Promise<void>((resolve, reject) => {
      timer = setTimeout(() => reject(new Error(`no byte came back within ${FIRST_ECHO_TIMEOUT_MS} ms`)), FIRST_ECHO_TIMEOUT_MS);
      ep.on.data = () => resolve();
      ep.on.close = () => reject(new Error("closed before the first byte came back"));
      ep.write(new Uint8Array([0x21]));
    });
  } finally {
    clearTimeout(timer);
    ep.on.close = undefined;
    ep.end();
  }
}

/**
 * The whole tunnel as users run it (tunnel_world.ts): time to ready and to the first echoed byte, 64 B round
 * trips next to the direct path, one stream's throughput, and the RSS of each process.
 */
async function fullTunnel(ctx: BenchContext, sink: Sink): Promise<void> {
  const world = await startTunnelWorld(ctx);
  const echo = startEcho();
  ctx.defer(() => echo.stop());
  const ready: number[] = [];
  const firstByte: number[] = [];
  let last: TunnelProcess | undefined;
  for (let i = 0; i < ctx.pick(5, 1); i++) {
    await last?.child.stop();
    ctx.progress(`tunnel start ${i + 1}`);
    const t0 = performance.now();
    last = await world.startTunnel(`127.0.0.1:${echo.port}`);
    await firstEcho(last.port);
    firstByte.push(performance.now() - t0);
    ready.push(last.readyMsAfterStart);
  }
  ctx.metric({ id: "tunnel_ready_ms", label: `tunnel ready, process start to ready line (median of ${ready.length})`, value: median(ready), unit: "ms" });
  ctx.metric({ id: "tunnel_first_byte_ms", label: `tunnel spawn to first echoed byte (median of ${firstByte.length})`, value: median(firstByte), unit: "ms" });

  const rounds = ctx.pick(10_000, 500);
  ctx.progress("64 B ping-pong: direct, plain forwarders, the tunnel");
  const fwd = await startForwarders(ctx, echo.port);
  const recs = await pingInterleaved(
    [
      { name: DIRECT_PATH, dial: () => dialTcp(echo.port) },
      ...fwd.map((f) => ({ name: f.name, dial: () => dialTcp(f.port) })),
      { name: TUNNEL_PATH, dial: () => dialTcp(last!.port) },
    ],
    { rounds, ms: ctx.pick(30_000, 5_000) },
  );
  for (const [name, rec] of recs) {
    const h = rec.summary();
    const id = name === TUNNEL_PATH ? "inlay" : name;
    ctx.metric({ id: `tunnel_rtt_p50_${id}`, label: `64 B RTT p50, ${name}`, value: h.p50, unit: "µs", group: "64 B RTT p50", path: name, histogram: h });
    ctx.metric({ id: `tunnel_rtt_p99_${id}`, label: `64 B RTT p99, ${name}`, value: h.p99, unit: "µs", group: "64 B RTT p99", path: name });
  }
  for (const f of fwd) await f.child.stop();
  await last?.child.stop();

  const bulk = await world.startTunnel(`127.0.0.1:${sink.port}`);
  const samplers = { tunnel: ctx.sampleRss(bulk.child.pid), daemon: ctx.sampleRss(world.daemon.pid), relay: ctx.sampleRss(world.relay.pid) };
  ctx.progress("1 stream through the tunnel");
  const r = await measureStreams(() => dialTcp(bulk.port), sink.bytes, { conns: 1, ms: ctx.pick(3_000, 500), warmupMs: ctx.pick(1_000, 200) });
  ctx.metric({ id: "tunnel_stream1_inlay", label: `${GROUP}, ${TUNNEL_PATH} (local listener → tunnel → relay → daemon → target)`, value: r.gbitPerSecond, unit: "Gbit/s", group: GROUP, path: TUNNEL_PATH });
  for (const [name, sampler] of Object.entries(samplers)) {
    ctx.metric({ id: `tunnel_rss_${name}`, label: `${name} process RSS max during the stream`, value: sampler.stop().maxMiB, unit: "MiB" });
  }
}

/** The `tunnel` scenario. */
export const tunnelScenario: Scenario = {
  name: "tunnel",
  description: "tunnel vs direct, socat, haproxy: data plane (AES-256-GCM records), key agreement, full tunnel: ready time, RTT, 1 stream",
  targets: [
    { metric: "tunnel_stream1_inlay", op: ">=", value: 3, unit: "Gbit/s", source: "issue 8" },
    { metric: "tunnel_ready_ms", op: "<=", value: 100, unit: "ms", source: "issue 8" },
  ],
  async run(ctx) {
    const key = randomBytes(32);
    const sink = startSink();
    ctx.defer(() => sink.stop());
    const recordSink = startRecordSink(key);
    ctx.defer(() => recordSink.stop());
    const relay = await startRelayPath(ctx);
    const relayCount = { bytes: 0 };
    // Plain forwarders (no encryption) next to the records: what users compare a tunnel with.
    const fwd = await startForwarders(ctx, sink.port);
    const paths: (StreamPath & { id: string })[] = [
      { id: "plane_direct", name: DIRECT_PATH, dial: () => dialTcp(sink.port), received: sink.bytes },
      ...fwd.map((f) => ({ id: `plane_${f.name}`, name: f.name, dial: () => dialTcp(f.port), received: sink.bytes })),
      { id: "plane_direct_records", name: "direct + records", dial: async () => sealedEndpoint(await dialTcp(recordSink.port), key), received: recordSink.bytes },
      {
        id: "plane_relay_records",
        name: "inlay relay + records",
        dial: async () => sealedEndpoint(await dialRelayPair(relay, { consume: recordCounter(key, relayCount) }), key),
        received: () => relayCount.bytes,
      },
    ];
    const rounds = ctx.pick(STREAM_ROUNDS, 1);
    const runs = await measureStreamsInterleaved(paths, {
      conns: 1,
      rounds,
      ms: ctx.pick(3_000, 500),
      warmupMs: ctx.pick(500, 200),
      onPath: (name, round) => ctx.progress(`1 stream, ${name}, round ${round + 1}/${rounds}`),
    });
    for (const p of paths) {
      const gbps = runs.get(p.name)!;
      ctx.metric({ id: p.id, label: `${GROUP}, ${p.name}${gbps.length > 1 ? ` (median of ${gbps.length} rounds)` : ""}`, value: median(gbps), unit: "Gbit/s", group: GROUP, path: p.name });
    }
    for (const f of fwd) await f.child.stop();
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

    try {
      await fullTunnel(ctx, sink);
    } catch (err) {
      if (!(err instanceof NotAvailable)) throw err;
      ctx.note(`full tunnel (daemon, local listener, time to first byte): not available: ${err.message}`);
    }
  },
};
