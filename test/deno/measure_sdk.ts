/**
 * Measures the client SDK on the runtime that runs this script, against services spawned as Bun child
 * processes (test/deno/spawned_stack.ts), so Bun and Deno clients can be compared on the same servers:
 *
 *   bun test/deno/measure_sdk.ts [COUNT=500] [IN_FLIGHT=64]
 *   deno run --allow-read --allow-write --allow-env --allow-net=127.0.0.1 --allow-run=bun --allow-sys test/deno/measure_sdk.ts
 *
 * Prints the onboarding time (two @signs side by side, key generation included), p50/p99 of one-at-a-time
 * self put and get, the rate of pipelined self puts, and p50 of bob's reads of a value alice shared with him
 * (bob's server fetches it from alice's).
 */
import { join } from "node:path";
import { AtClient } from "../../client/at_client.ts";
import { startSpawnedStack } from "./spawned_stack.ts";

const COUNT = Number(process.argv[2] ?? 500);
const IN_FLIGHT = Number(process.argv[3] ?? 64);
const WARM_UP = 50;
const runtime = "Deno" in globalThis ? "deno" : "bun";

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/** Runs `op` COUNT times one after the other; returns p50 and p99 in ms. */
async function latency(op: (i: number) => Promise<unknown>): Promise<string> {
  for (let i = 0; i < WARM_UP; i++) await op(i);
  const ms: number[] = [];
  for (let i = 0; i < COUNT; i++) {
    const t = performance.now();
    await op(i);
    ms.push(performance.now() - t);
  }
  ms.sort((a, b) => a - b);
  return `p50 ${percentile(ms, 50).toFixed(2)} ms, p99 ${percentile(ms, 99).toFixed(2)} ms`;
}

const stack = await startSpawnedStack(["@alice", "@bob"]);
try {
  let t = performance.now();
  const onboard = (atSign: string) =>
    AtClient.onboard(atSign, stack.cramSecrets.get(atSign)!, { ...stack.net, keysFile: join(stack.home, "keys", `${atSign}.atKeys`) });
  const [a, b] = await Promise.all([onboard("@alice"), onboard("@bob")]);
  const alice = a.client;
  const bob = b.client;
  console.log(`${runtime}: onboarding two @signs: ${(performance.now() - t).toFixed(0)} ms`);

  console.log(`${runtime}: self put, one at a time (${COUNT}): ${await latency((i) => alice.put(`k${i}.m`, `value ${i}`))}`);
  console.log(`${runtime}: self get, one at a time (${COUNT}): ${await latency((i) => alice.get(`k${i}.m`))}`);

  t = performance.now();
  for (let done = 0; done < COUNT * 4; done += IN_FLIGHT) {
    await Promise.all(Array.from({ length: IN_FLIGHT }, (_, j) => alice.put(`p${done + j}.m`, "pipelined")));
  }
  const seconds = (performance.now() - t) / 1000;
  console.log(`${runtime}: self put, ${IN_FLIGHT} in flight (${COUNT * 4}): ${((COUNT * 4) / seconds).toFixed(0)} puts/s`);

  await alice.put("@bob:shared.m", "for bob");
  console.log(`${runtime}: bob reads alice's shared value (${COUNT}): ${await latency(() => bob.get("shared.m@alice"))}`);
  alice.close();
  bob.close();
} finally {
  await stack.stop();
}
