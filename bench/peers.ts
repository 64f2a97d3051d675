/**
 * The programs we compare against, when installed: socat and haproxy as TCP forwarders (the same job as the
 * relay's data path), iperf3 as a C load generator, nginx detected only. Each forwarder runs as a child process
 * through the context, so it is always stopped and its RSS can be sampled.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import type { BenchContext, Child } from "./context.ts";

/** Programs looked up on PATH. */
export const PEER_PROGRAMS = ["socat", "haproxy", "iperf3", "nginx"] as const;
/** One of PEER_PROGRAMS. */
export type PeerProgram = (typeof PEER_PROGRAMS)[number];

/** How to install every peer on Debian/Ubuntu (printed by `bench.ts --peers`). */
export const PEER_APT_COMMAND = "sudo apt-get update && sudo apt-get install -y socat haproxy iperf3 nginx";

/** Absolute path of each peer program, null when not installed. */
export function detectPeers(): Record<PeerProgram, string | null> {
  const out = {} as Record<PeerProgram, string | null>;
  // haproxy and nginx live in /usr/sbin, which is not on every user's PATH.
  const path = `${process.env.PATH ?? ""}:/usr/sbin:/usr/local/sbin`;
  for (const p of PEER_PROGRAMS) out[p] = Bun.which(p, { PATH: path });
  return out;
}

/** How long a freshly started peer has to accept connections. */
export const PEER_START_TIMEOUT_MS = 5_000;
/** Pause between connection attempts while waiting for a port. */
const PORT_POLL_MS = 20;

/** A loopback port that was free a moment ago (for programs that cannot report an ephemeral port). */
export function freePort(): number {
  const l = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const port = l.port;
  l.stop(true);
  return port;
}

/** Resolves once 127.0.0.1:`port` accepts a TCP connection; throws after `timeoutMs`. */
export async function waitForPort(port: number, timeoutMs = PEER_START_TIMEOUT_MS): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (true) {
    try {
      const s = await Bun.connect({ hostname: "127.0.0.1", port, socket: { data() {} } });
      s.end();
      return;
    } catch {
      if (performance.now() > deadline) throw new Error(`nothing accepted connections on 127.0.0.1:${port} within ${timeoutMs} ms`);
      await Bun.sleep(PORT_POLL_MS);
    }
  }
}

/** waitForPort, with the child's own words when it never listened (a bad config, a file-descriptor limit...). */
async function waitForChildPort(child: Child, port: number): Promise<void> {
  try {
    await waitForPort(port);
  } catch (err) {
    throw new Error(`${(err as Error).message}: ${child.outputTail().trim().split("\n").slice(-3).join(" | ")}`);
  }
}

/** A forwarder in front of a target port. */
export interface Forwarder {
  name: string;
  port: number;
  child: Child;
}

/** haproxy `mode tcp`, one thread, forwarding 127.0.0.1:<new port> to `targetPort`. */
export async function startHaproxy(ctx: BenchContext, bin: string, targetPort: number): Promise<Forwarder> {
  const port = freePort();
  const dir = ctx.tempDir("inlay-bench-haproxy-");
  const cfg = join(dir, "haproxy.cfg");
  writeFileSync(
    cfg,
    [
      // No maxconn: haproxy derives it from the file-descriptor limit, which differs between machines.
      "global",
      "  nbthread 1",
      "defaults",
      "  mode tcp",
      "  timeout connect 5s",
      "  timeout client 120s",
      "  timeout server 120s",
      "listen fwd",
      `  bind 127.0.0.1:${port}`,
      `  server target 127.0.0.1:${targetPort}`,
      "",
    ].join("\n"),
  );
  const child = await ctx.spawn([bin, "-db", "-f", cfg]);
  await waitForChildPort(child, port);
  return { name: "haproxy", port, child };
}

/** socat forking one process per connection, forwarding 127.0.0.1:<new port> to `targetPort`. */
export async function startSocat(ctx: BenchContext, bin: string, targetPort: number): Promise<Forwarder> {
  const port = freePort();
  const child = await ctx.spawn([bin, `TCP-LISTEN:${port},bind=127.0.0.1,reuseaddr,fork,backlog=1024`, `TCP:127.0.0.1:${targetPort}`]);
  await waitForChildPort(child, port);
  return { name: "socat", port, child };
}

/** Starts every installed forwarder in front of `targetPort`, noting the missing ones. */
export async function startForwarders(ctx: BenchContext, targetPort: number): Promise<Forwarder[]> {
  const peers = detectPeers();
  const out: Forwarder[] = [];
  if (peers.socat) out.push(await startSocat(ctx, peers.socat, targetPort));
  else ctx.note("socat: not installed (bun bench.ts --peers)");
  if (peers.haproxy) out.push(await startHaproxy(ctx, peers.haproxy, targetPort));
  else ctx.note("haproxy: not installed (bun bench.ts --peers)");
  return out;
}

/**
 * A one-off iperf3 server (one test, then it exits) on `port`. Readiness comes from its banner: a probe
 * connection would count as its one test (so start a forwarder in front of it before it, not after).
 */
export async function startIperf3Server(ctx: BenchContext, bin: string, port = freePort()): Promise<{ port: number; child: Child }> {
  const child = await ctx.spawn([bin, "-s", "-1", "--forceflush", "-B", "127.0.0.1", "-p", String(port)], {
    ready: /Server listening/,
    readyTimeoutMs: PEER_START_TIMEOUT_MS,
  });
  return { port, child };
}

/** One iperf3 TCP stream to 127.0.0.1:`port` for `seconds` (after 1 s omitted warm-up); Gbit/s received. */
export async function runIperf3Client(ctx: BenchContext, bin: string, port: number, seconds: number): Promise<number> {
  const proc = Bun.spawn([bin, "-c", "127.0.0.1", "-p", String(port), "-t", String(seconds), "-O", "1", "-J"], { stdout: "pipe", stderr: "pipe" });
  ctx.defer(() => proc.kill());
  const [out, code] = await Promise.all([new Response(proc.stdout).text(), proc.exited]);
  const json = JSON.parse(out) as { error?: string; end?: { sum_received?: { bits_per_second?: number } } };
  const bps = json.end?.sum_received?.bits_per_second;
  if (code !== 0 || !bps) throw new Error(`iperf3 failed: ${json.error ?? `status ${code}`}`);
  return bps / 1e9;
}
