/**
 * Throughput of the relay next to haproxy (`mode tcp`, one thread) and the direct path, interleaved round by
 * round, with the same Bun load generators; also the relay's and haproxy's RSS and CPU. `relay+tunnel` sends
 * AES-256-GCM tunnel records through the relay (sealed by the sender, opened by the receiver; plaintext counted).
 * Run: `bun relay/measure/relay_vs_haproxy.ts --streams 1 --seconds 5 --rounds 3` (needs /usr/sbin/haproxy).
 * Prints one JSON line per path and round, then the medians.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Piped, ask, nextLine as line, spawnPiped as spawn } from "./child_lines.ts";
import { generateEd25519KeyPair } from "../../core/crypto/ed25519.ts";

const arg = (name: string, dflt: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1]! : dflt;
};
const streams = Number(arg("streams", "1"));
const seconds = Number(arg("seconds", "5"));
const rounds = Number(arg("rounds", "3"));
const here = import.meta.dir;

const proc = (pid: number) => {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
  return { rssMiB: Number(/VmRSS:\s+(\d+)/.exec(status)![1]) / 1024, cpuTicks: Number(stat[11]) + Number(stat[12]) };
};

const dir = mkdtempSync(join(tmpdir(), "relay-vs-"));
const [ka, kb] = await Promise.all([generateEd25519KeyPair(), generateEd25519KeyPair()]);
writeFileSync(join(dir, "keys.json"), JSON.stringify({ "@a": ka.publicKey, "@b": kb.publicKey }));
const relay = spawn(["bun", join(here, "relay_fixture.ts"), join(dir, "keys.json")]);
const relayPort = (JSON.parse(await line(relay)) as { port: number }).port;
const sink = spawn(["bun", join(here, "plain_worker.ts"), "sink"]);
const sinkPort = (JSON.parse(await line(sink)) as { port: number }).port;
const haproxyPort = 20000 + Math.floor(Math.random() * 10000);
writeFileSync(
  join(dir, "haproxy.cfg"),
  `global\n  nbthread 1\n  maxconn 9000\ndefaults\n  mode tcp\n  timeout connect 5s\n  timeout client 60s\n  timeout server 60s\n` +
    `frontend f\n  bind 127.0.0.1:${haproxyPort}\n  default_backend b\nbackend b\n  server s 127.0.0.1:${sinkPort}\n`,
);
const haproxy = Bun.spawn(["/usr/sbin/haproxy", "-f", join(dir, "haproxy.cfg"), "-db"], { stdout: "ignore", stderr: "inherit" });
await Bun.sleep(300);

interface Row { path: string; round: number; gbitPerS: number; rssMiB?: number; cpuPct?: number }
const rows: Row[] = [];
async function runPath(path: string, round: number): Promise<void> {
  const hz = 100;
  let sender: Piped;
  let receiver: Piped;
  let watched: number | undefined;
  if (path.startsWith("relay")) {
    const runId = crypto.randomUUID(); // fresh session ids: the previous run's sessions may still be closing
    const suffix = path === "relay+tunnel" ? "-sealed" : "";
    sender = spawn(["bun", join(here, "leg_worker.ts"), String(relayPort), "a", String(streams), "send" + suffix, ka.privateKey, runId]);
    receiver = spawn(["bun", join(here, "leg_worker.ts"), String(relayPort), "b", String(streams), "recv" + suffix, kb.privateKey, runId]);
    await Promise.all([line(sender), line(receiver)]);
    watched = relay.pid;
  } else {
    sender = spawn(["bun", join(here, "plain_worker.ts"), "send", String(path === "haproxy" ? haproxyPort : sinkPort), String(streams)]);
    receiver = sink;
    await line(sender);
    watched = path === "haproxy" ? haproxy.pid : undefined;
  }
  const c0 = watched ? proc(watched).cpuTicks : 0;
  const b0 = (await ask<{ bytes: number }>(receiver)).bytes;
  const t0 = performance.now();
  let rss = 0;
  while (performance.now() - t0 < seconds * 1000) {
    if (watched) rss = Math.max(rss, proc(watched).rssMiB);
    await Bun.sleep(100);
  }
  const b1 = (await ask<{ bytes: number }>(receiver)).bytes;
  const secs = (performance.now() - t0) / 1000;
  const row: Row = { path, round, gbitPerS: +(((b1 - b0) * 8) / secs / 1e9).toFixed(2) };
  if (watched) {
    row.rssMiB = +rss.toFixed(1);
    row.cpuPct = Math.round(((proc(watched).cpuTicks - c0) / hz / secs) * 100);
  }
  rows.push(row);
  console.log(JSON.stringify(row));
  sender.stdin.end();
  await sender.exited;
  if (receiver !== sink) {
    receiver.stdin.end();
    await receiver.exited;
  }
  await Bun.sleep(300);
}

// Session ids repeat per round: the previous round's sessions are closed by then (the pause in runPath).
const paths = ["direct", "haproxy", "relay", "relay+tunnel"];
try {
  for (let r = 0; r < rounds; r++) for (const path of paths) await runPath(path, r);
} catch (e) {
  haproxy.kill();
  throw e;
}
const median = (xs: number[]) => xs.sort((x, y) => x - y)[Math.floor(xs.length / 2)]!;
for (const path of paths) {
  const rs = rows.filter((x) => x.path === path);
  console.log(JSON.stringify({ path, streams, medianGbitPerS: median(rs.map((x) => x.gbitPerS)), runs: rs.map((x) => x.gbitPerS), medianCpuPct: rs[0]?.cpuPct === undefined ? undefined : median(rs.map((x) => x.cpuPct!)), maxRssMiB: Math.max(...rs.map((x) => x.rssMiB ?? 0)) }));
}
haproxy.kill();
for (const p of [relay, sink]) p.stdin.end();
await Promise.all([haproxy.exited, relay.exited, sink.exited]);
rmSync(dir, { recursive: true, force: true });
