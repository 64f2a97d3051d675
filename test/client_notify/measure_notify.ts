/**
 * Measures notifications end to end through the SDK: alice's client (value sealed for bob) → alice's atServer
 * → bob's atServer → bob's AtMonitor (value decrypted). The directory and both servers run as child processes
 * of their entries; the two clients share this process.
 *
 *   bun test/client_notify/measure_notify.ts [LATENCY_COUNT=2000] [BURST=10000] [IN_FLIGHT=64]
 *
 * Prints p50/p90/p99/max of one-at-a-time round trips (send → decrypted at the monitor) and the sustained
 * rate of a pipelined burst (first send → last decrypted), with the count of notifications lost.
 */
import { randomUUID } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Subprocess } from "bun";
import { AtClient, type ConnectOptions } from "../../client/index.ts";
import { devCaPath } from "../../core/crypto/dev_ca.ts";

const ROOT = join(import.meta.dir, "../..");
const LATENCY_COUNT = Number(process.argv[2] ?? 2_000);
const BURST = Number(process.argv[3] ?? 10_000);
const IN_FLIGHT = Number(process.argv[4] ?? 64);
const WARM_UP = 300;
/** How long a child may take to print its ready line, and the burst to arrive. */
const READY_TIMEOUT_MS = 20_000;
const BURST_TIMEOUT_MS = 120_000;
const VALUE = JSON.stringify({ text: "hello from the notify measurement", n: 0 });

const home = mkdtempSync(join(tmpdir(), "inlay-notify-measure-"));
const children: Subprocess[] = [];

/** Spawns an entry and resolves with the match of `ready` in its output; its stdout keeps draining. */
async function spawnEntry(args: string[], env: Record<string, string>, ready = /listening on .*:(\d+)\s*$/m): Promise<RegExpExecArray> {
  const child = Bun.spawn([process.execPath, ...args], { env: { ...process.env, INLAY_HOME: home, INLAY_LOG: "warn", ...env }, stdout: "pipe", stderr: "inherit" });
  children.push(child);
  const { promise, resolve, reject } = Promise.withResolvers<RegExpExecArray>();
  const timer = setTimeout(() => reject(new Error(`${args.join(" ")} printed no ready line within ${READY_TIMEOUT_MS} ms`)), READY_TIMEOUT_MS);
  void (async () => {
    const decoder = new TextDecoder();
    let text = "";
    // Read to the end: a child whose stdout pipe closes dies of EPIPE on its next log line.
    for await (const chunk of child.stdout) {
      if (text.length > 4096) continue;
      text += decoder.decode(chunk, { stream: true });
      const m = ready.exec(text);
      if (m) resolve(m);
    }
    reject(new Error(`${args.join(" ")} exited: ${text}`));
  })();
  try {
    return await promise;
  } finally {
    clearTimeout(timer);
  }
}

/** CPU time (ms) a child used so far, from /proc (Linux); 0 elsewhere. */
function childCpuMs(pid: number): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
  } catch {
    return 0;
  }
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

async function main(): Promise<void> {
  const token = randomUUID();
  const dir = await spawnEntry([join(ROOT, "directory.ts"), "--host", "127.0.0.1", "--port", "0", "--admin-port", "0"], { INLAY_TOKEN: token }, /listening on .*:(\d+)\s*\n[^]*admin API on (http:\S+)/m);
  const [dirPort, adminUrl] = [Number(dir[1]), dir[2]!];
  const secrets = { "@alice": randomUUID(), "@bob": randomUUID() };
  for (const [atSign, secret] of Object.entries(secrets)) {
    await spawnEntry(
      [join(ROOT, "server.ts"), atSign, "--host", "127.0.0.1", "--port", "0", "--public-host", "127.0.0.1", "--directory", `127.0.0.1:${dirPort}`, "--directory-admin", adminUrl],
      { INLAY_CRAM_SECRET: secret, INLAY_TOKEN: token },
    );
  }
  const net: ConnectOptions = { directory: `127.0.0.1:${dirPort}`, caFile: devCaPath(home), home };
  const onboard = async (atSign: "@alice" | "@bob") => (await AtClient.onboard(atSign, secrets[atSign], { ...net, keysFile: join(home, `${atSign}.atKeys`) })).client;
  const [alice, bob] = await Promise.all([onboard("@alice"), onboard("@bob")]);

  const waiting = new Map<string, () => void>();
  let wrongValues = 0;
  const monitor = bob.monitor({ regex: "measure", onStatus: (s, d) => console.error(`monitor ${s}${d ? `: ${d}` : ""}`) });
  await monitor.ready;
  const consumer = (async () => {
    for await (const n of monitor) {
      if (n.value !== VALUE) wrongValues++;
      waiting.get(n.id)?.();
      waiting.delete(n.id);
    }
  })();
  const roundTrip = (i: number): { sent: Promise<string>; arrived: Promise<void> } => {
    const id = randomUUID();
    const arrived = new Promise<void>((resolve) => waiting.set(id, resolve));
    return { sent: alice.notify("@bob", `m${i % 100}.measure`, VALUE, { id }), arrived };
  };

  for (let i = 0; i < WARM_UP; i++) {
    const r = roundTrip(i);
    await Promise.all([r.sent, r.arrived]);
  }

  const samples: number[] = [];
  for (let i = 0; i < LATENCY_COUNT; i++) {
    const t = Bun.nanoseconds();
    const r = roundTrip(i);
    await Promise.all([r.sent, r.arrived]);
    samples.push((Bun.nanoseconds() - t) / 1_000);
  }
  samples.sort((a, b) => a - b);

  const cpu0 = process.cpuUsage();
  const childCpu0 = children.map((c) => childCpuMs(c.pid));
  const t0 = performance.now();
  const arrivals: Promise<void>[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: IN_FLIGHT }, async () => {
      while (next < BURST) {
        const r = roundTrip(next++);
        arrivals.push(r.arrived);
        await r.sent;
      }
    }),
  );
  const sentMs = performance.now() - t0;
  const timeout = new Promise<"timeout">((r) => setTimeout(() => r("timeout"), BURST_TIMEOUT_MS).unref());
  const outcome = await Promise.race([Promise.all(arrivals).then(() => "done" as const), timeout]);
  const burstMs = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  const childCpu = children.map((c, i) => (childCpuMs(c.pid) - childCpu0[i]!).toFixed(0));

  console.log(`latency (${LATENCY_COUNT} one at a time, µs): p50 ${percentile(samples, 50).toFixed(0)}  p90 ${percentile(samples, 90).toFixed(0)}  p99 ${percentile(samples, 99).toFixed(0)}  max ${samples.at(-1)!.toFixed(0)}`);
  console.log(`burst of ${BURST} (${IN_FLIGHT} in flight): sent in ${sentMs.toFixed(0)} ms, all decrypted at the monitor in ${burstMs.toFixed(0)} ms → ${((BURST / burstMs) * 1000).toFixed(0)} notifications/s; lost ${outcome === "done" ? 0 : waiting.size}; wrong values ${wrongValues}; CPU ms: clients ${((cpu.user + cpu.system) / 1000).toFixed(0)}, directory/alice/bob servers ${childCpu.join("/")}`);
  if (waiting.size > 0 && process.env.MEASURE_DEBUG) {
    const ids = [...waiting.keys()].slice(0, 3);
    for (const id of ids) console.error(id, await alice.notifyStatus(id), await bob.command(`notify:fetch:${id}`).catch((e) => String(e)));
  }
  monitor.close();
  await consumer;
  alice.close();
  bob.close();
}

try {
  await main();
} finally {
  for (const c of children) c.kill();
  await Promise.all(children.map((c) => c.exited));
  rmSync(home, { recursive: true, force: true });
}
