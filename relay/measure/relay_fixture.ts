/**
 * A relay in its own process for measurements: keys come from a JSON file `{ "@a": "<spki b64>", … }`.
 * Run: `bun [--smol] relay/measure/relay_fixture.ts KEYS.json [--no-release] [--total-queue-mib N] [--gc-ms N]`; prints `{"port":N}`.
 */
import { readFileSync } from "node:fs";
import { startRelay } from "../index.ts";

const totalQueueAt = process.argv.indexOf("--total-queue-mib");
const totalQueueLimitBytes = totalQueueAt > 0 ? Number(process.argv[totalQueueAt + 1]) * 1024 * 1024 : undefined;
const keys = new Map<string, string>(Object.entries(JSON.parse(readFileSync(process.argv[2]!, "utf8")) as Record<string, string>));
const relay = await startRelay({
  relayAtSign: "@relay",
  host: "127.0.0.1",
  port: 0,
  resolvePublicKey: async (a) => keys.get(a) ?? null,
  releaseBuffers: !process.argv.includes("--no-release"),
  limits: { unpairedTtlMs: 120_000, sessionsPerAtSign: 1_000_000, maxPendingLegs: 1_000_000, maxPairs: 1_000_000, maxPreAuthConnections: 1_000_000, ...(totalQueueLimitBytes ? { totalQueueLimitBytes } : {}) },
});
// Experiment: `--gc-ms N` asks for a collection every N ms (to see whether GC hints bound RSS).
const gcAt = process.argv.indexOf("--gc-ms");
const gcTimer = gcAt > 0 ? setInterval(() => Bun.gc(false), Number(process.argv[gcAt + 1])) : undefined;
console.log(JSON.stringify({ port: relay.port }));
// The parent asks for stats by writing a line; it stops the relay by closing stdin.
for await (const _ of console) {
  const m = process.memoryUsage();
  const mib = (n: number) => Math.round(n / 1048576);
  console.log(JSON.stringify({ ...relay.stats(), memory: { rssMiB: mib(m.rss), heapUsedMiB: mib(m.heapUsed), heapTotalMiB: mib(m.heapTotal), externalMiB: mib(m.external), arrayBuffersMiB: mib(m.arrayBuffers) } }));
}
clearInterval(gcTimer);
await relay.stop();
