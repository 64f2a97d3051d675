/**
 * Relay memory and throughput under many sessions: the relay (relay_fixture.ts) and the two sides
 * (leg_worker.ts) run as separate processes; the relay's RSS is sampled from /proc every 100 ms.
 *
 * Run: `bun relay/measure/relay_memory.ts --streams 1000 --mode active --seconds 5 [--smol] [--no-release] [--total-queue-mib N] [--gc-ms N] [--rounds N]`
 * (`--rounds` reconnects all sessions N times against the same relay process)
 * (`--mode idle` pairs the sessions and sends nothing). Prints one JSON line.
 */
import { readFileSync, writeFileSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ask, nextLine as line, spawnPiped as spawn } from "./child_lines.ts";
import { generateEd25519KeyPair } from "../../core/crypto/ed25519.ts";
import type { RelayStats } from "../index.ts";

const arg = (name: string, dflt: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1]! : dflt;
};
const streams = Number(arg("streams", "100"));
const mode = arg("mode", "active");
const seconds = Number(arg("seconds", "5"));
const smol = process.argv.includes("--smol");
const noRelease = process.argv.includes("--no-release");
const totalQueueMiB = arg("total-queue-mib", "");
const gcMs = arg("gc-ms", "");
const rounds = Number(arg("rounds", "1"));
const here = import.meta.dir;

const rssMiB = (pid: number) => {
  const s = readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = (k: string) => Number(new RegExp(`${k}:\\s+(\\d+)`).exec(s)?.[1] ?? 0);
  return { rss: kb("VmRSS") / 1024, hwm: kb("VmHWM") / 1024 };
};

const dir = mkdtempSync(join(tmpdir(), "relay-mem-"));
const [a, b] = await Promise.all([generateEd25519KeyPair(), generateEd25519KeyPair()]);
writeFileSync(join(dir, "keys.json"), JSON.stringify({ "@a": a.publicKey, "@b": b.publicKey }));
const relay = spawn(["bun", ...(smol ? ["--smol"] : []), join(here, "relay_fixture.ts"), join(dir, "keys.json"), ...(noRelease ? ["--no-release"] : []), ...(totalQueueMiB ? ["--total-queue-mib", totalQueueMiB] : []), ...(gcMs ? ["--gc-ms", gcMs] : [])]);
const { port } = JSON.parse(await line(relay)) as { port: number };
const before = rssMiB(relay.pid).rss;
const perRound: { pairSetupMs: number; rssMaxMiB: number; gbitPerS: number; [k: string]: number }[] = [];
for (let round = 0; round < rounds; round++) {
  const t0 = performance.now();
  const runId = crypto.randomUUID();
  const wa = spawn(["bun", join(here, "leg_worker.ts"), String(port), "a", String(streams), mode === "active" ? "send" : "idle", a.privateKey, runId]);
  const wb = spawn(["bun", join(here, "leg_worker.ts"), String(port), "b", String(streams), mode === "active" ? "recv" : "idle", b.privateKey, runId]);
  await Promise.all([line(wa), line(wb)]);
  const pairSetupMs = Math.round(performance.now() - t0);
  let max = 0;
  const start = await ask<{ bytes: number }>(wb);
  const t1 = performance.now();
  while (performance.now() - t1 < seconds * 1000) {
    max = Math.max(max, rssMiB(relay.pid).rss);
    await Bun.sleep(100);
  }
  const end = await ask<{ bytes: number }>(wb);
  const mem = (await ask<{ memory: Record<string, number> }>(relay)).memory;
  const secs = (performance.now() - t1) / 1000;
  perRound.push({ pairSetupMs, rssMaxMiB: +max.toFixed(1), ...mem, gbitPerS: +(((end.bytes - start.bytes) * 8) / secs / 1e9).toFixed(2) });
  for (const p of [wa, wb]) p.stdin.end();
  await Promise.all([wa.exited, wb.exited]);
}
const after = rssMiB(relay.pid);
const stats = await ask<RelayStats>(relay);
relay.stdin.end();
await relay.exited;
rmSync(dir, { recursive: true, force: true });
console.log(
  JSON.stringify({
    streams,
    mode,
    smol,
    release: !noRelease,
    totalQueueMiB: totalQueueMiB || "default",
    gcMs: gcMs || undefined,
    relayRssFreshMiB: +before.toFixed(1),
    relayRssMaxMiB: Math.max(...perRound.map((r) => r.rssMaxMiB)),
    relayRssEndMiB: +after.rss.toFixed(1),
    relayHwmMiB: +after.hwm.toFixed(1),
    rounds: perRound,
    queuedHighWaterKiB: Math.round(stats.pipe.queuedBytesHighWater / 1024),
    pauseEvents: stats.pipe.pauseEvents,
    buffersReleased: stats.pipe.buffersReleased,
    pairsLeft: stats.pairs,
  }),
);
