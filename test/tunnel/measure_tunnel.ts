/**
 * Measures the tunnel with every part in its own process (relay.ts, `client.ts daemon`, `client.ts tunnel`; the
 * directory and atServers run here but are idle during transfers):
 * - time from spawning `bun client.ts tunnel` to its ready line and to the first echoed byte (N runs);
 * - time to open one more stream in a live session (connect → first echoed byte), sequential, 100 and 1,000 at once;
 * - single-stream throughput, requester → device and device → requester (sink / source targets), with the
 *   RSS of the tunnel and daemon processes at the end.
 * Usage: `bun test/tunnel/measure_tunnel.ts [bytes-per-direction=1073741824] [ready-runs=5]`. Prints JSON lines.
 */
import { join } from "node:path";
import { readFileSync } from "node:fs";
import type { Subprocess } from "bun";
import { connectTest, startTunnelWorld, until } from "./fixture.ts";

const BYTES = Number(process.argv[2] ?? 1024 ** 3);
const READY_RUNS = Number(process.argv[3] ?? 5);
const ROOT = join(import.meta.dir, "..", "..");
const w = await startTunnelWorld();
const net = ["--directory", `${w.directory.host}:${w.directory.port}`];
const procs: Subprocess[] = [];

function spawn(args: string[]): { proc: Subprocess<"ignore", "pipe", "pipe">; waitFor(re: RegExp): Promise<RegExpExecArray> } {
  const proc = Bun.spawn([process.execPath, ...args], { cwd: ROOT, env: { ...process.env, INLAY_HOME: w.stack.home, INLAY_LOG: "error" }, stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  procs.push(proc);
  let out = "";
  for (const s of [proc.stdout, proc.stderr]) {
    void (async () => {
      const d = new TextDecoder();
      for await (const c of s) out += d.decode(c, { stream: true });
    })();
  }
  return {
    proc,
    async waitFor(re) {
      let m: RegExpExecArray | null = null;
      await until(() => (m = re.exec(out)) !== null || proc.exitCode !== null, 30_000, String(re));
      if (!m) throw new Error(`exited: ${out}`);
      return m;
    },
  };
}
const rssMb = (pid: number) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? 0) / 1024;
const print = (o: object) => console.log(JSON.stringify(o));

// Targets on the device side: echo (from the world), a sink that counts, a source that sends BYTES.
let sunk = 0;
const sink = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data: (_s, c) => void (sunk += c.byteLength) } });
const block = new Uint8Array(1024 * 1024).fill(7);
const source = Bun.listen<{ left: number }>({
  hostname: "127.0.0.1",
  port: 0,
  socket: {
    open(s) {
      s.data = { left: BYTES };
      pump(s);
    },
    drain: (s) => pump(s),
    data() {},
  },
});
function pump(s: { data: { left: number }; write(b: Uint8Array): number; end(): void }) {
  while (s.data.left > 0) {
    const n = s.write(block.subarray(0, Math.min(block.byteLength, s.data.left)));
    if (n <= 0) return;
    s.data.left -= n;
    if (n < Math.min(block.byteLength, s.data.left + n)) return;
  }
  s.end();
}

try {
  const relay = spawn(["relay.ts", "@relay", "--host", "127.0.0.1", "--port", "0", "--admin-port", "0", ...net, "--keys", w.keysFile("@relay"), "--public-host", "127.0.0.1"]);
  await relay.waitFor(/published/);
  const daemon = spawn(["client.ts", "daemon", "--keys", w.keysFile("@device"), ...net, "--permit", "127.0.0.1:*", "--allow", "@bob"]);
  await daemon.waitFor(/ready/);
  const tunnelTo = (port: number) => spawn(["client.ts", "tunnel", "--keys", w.keysFile("@bob"), ...net, "@device", "--to", `127.0.0.1:${port}`, "--relay", "@relay"]);

  for (let i = 0; i < READY_RUNS; i++) {
    const t0 = performance.now();
    const t = tunnelTo(w.echo.port);
    const m = await t.waitFor(/tunnel ready on 127\.0\.0\.1:(\d+) .*\((\d+) ms after start\)/);
    const ready = performance.now() - t0;
    const c = await connectTest(Number(m[1]));
    await c.write("!");
    await until(() => c.bytes() === 1);
    print({ what: "tunnel start", readyMsAfterSpawn: Math.round(ready), readyMsAfterOwnStart: Number(m[2]), firstByteMsAfterSpawn: Math.round(performance.now() - t0) });
    c.sock.end();
    t.proc.kill("SIGTERM");
    await t.proc.exited;
  }

  const echoTunnel = tunnelTo(w.echo.port);
  const echoPort = Number((await echoTunnel.waitFor(/ready on 127\.0\.0\.1:(\d+)/))[1]);
  const streamOpen: number[] = [];
  // Event-driven (no polling): the time is taken in the data callback.
  const echoOnce = async () => {
    const t0 = performance.now();
    let got!: (ms: number) => void;
    const first = new Promise<number>((r) => (got = r));
    const c = await connectTest(echoPort, { keep: false, onData: () => got(performance.now() - t0) });
    await c.write("!");
    const ms = await first;
    c.sock.end();
    return ms;
  };
  for (let i = 0; i < 50; i++) streamOpen.push(await echoOnce());
  streamOpen.sort((a, b) => a - b);
  print({ what: "new stream in a live session, connect to first echoed byte", p50Ms: +streamOpen[25]!.toFixed(2), p90Ms: +streamOpen[45]!.toFixed(2), maxMs: +streamOpen[49]!.toFixed(2) });
  for (const n of [100, 1000]) {
    const t0 = performance.now();
    await Promise.all(Array.from({ length: n }, echoOnce));
    print({ what: `${n} streams opened at once, all echoed`, ms: Math.round(performance.now() - t0), tunnelRssMb: Math.round(rssMb(echoTunnel.proc.pid)), daemonRssMb: Math.round(rssMb(daemon.proc.pid)) });
  }
  echoTunnel.proc.kill("SIGTERM");

  // Requester → device.
  const up = tunnelTo(sink.port);
  const upPort = Number((await up.waitFor(/ready on 127\.0\.0\.1:(\d+)/))[1]);
  {
    const c = await connectTest(upPort, { keep: false });
    const t0 = performance.now();
    for (let sent = 0; sent < BYTES; sent += block.byteLength) await c.write(block.subarray(0, Math.min(block.byteLength, BYTES - sent)));
    await until(() => sunk >= BYTES, 600_000);
    const secs = (performance.now() - t0) / 1000;
    print({ what: "single stream requester -> device", bytes: BYTES, seconds: +secs.toFixed(2), gbitPerS: +((BYTES * 8) / secs / 1e9).toFixed(2), tunnelRssMb: Math.round(rssMb(up.proc.pid)), daemonRssMb: Math.round(rssMb(daemon.proc.pid)), relayRssMb: Math.round(rssMb(relay.proc.pid)) });
    c.sock.end();
  }
  up.proc.kill("SIGTERM");

  // Device → requester.
  const down = tunnelTo(source.port);
  const downPort = Number((await down.waitFor(/ready on 127\.0\.0\.1:(\d+)/))[1]);
  {
    const t0 = performance.now();
    const c = await connectTest(downPort, { keep: false });
    await until(() => c.bytes() >= BYTES, 600_000);
    const secs = (performance.now() - t0) / 1000;
    print({ what: "single stream device -> requester", bytes: BYTES, seconds: +secs.toFixed(2), gbitPerS: +((BYTES * 8) / secs / 1e9).toFixed(2), tunnelRssMb: Math.round(rssMb(down.proc.pid)), daemonRssMb: Math.round(rssMb(daemon.proc.pid)), relayRssMb: Math.round(rssMb(relay.proc.pid)) });
    c.sock.end();
  }
  down.proc.kill("SIGTERM");
} finally {
  for (const p of procs) p.kill(9);
  sink.stop(true);
  source.stop(true);
  await w.stop();
}
