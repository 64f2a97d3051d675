/**
 * Measures notification latency and throughput with both servers as child processes (run by hand):
 *   bun test/notify/measure_notify.ts [sequential-count] [burst-count]
 * Sequential: one notify at a time; per message the client→@alice acknowledgement and the end-to-end time
 * until @bob's monitor prints it (client → @alice server → @bob server → @bob monitor, no encryption).
 * Burst: notify lines pipelined 64 deep; rate of acknowledgements and of arrivals at @bob's monitor.
 */
import { startChildStack } from "./child_stack.ts";
import type { RawClient } from "./helpers.ts";

/** Lines the burst client writes ahead of their answers. */
const WINDOW_LINES = 64;

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
};
const ms = (x: number) => Number(x.toFixed(3));

/** Resolves when `c` has received `count` lines containing `marker` since the last call (counted incrementally). */
function lineCounter(c: RawClient, marker: string) {
  let seen = 0;
  let buf = "";
  return {
    async until(count: number, timeoutMs = 120_000): Promise<void> {
      await c.until(() => {
        buf += c.take();
        let nl: number;
        while ((nl = buf.indexOf("\n")) !== -1) {
          if (buf.slice(0, nl).includes(marker)) seen++;
          buf = buf.slice(nl + 1);
        }
        return seen >= count;
      }, timeoutMs);
    },
  };
}

const seqCount = Number(process.argv[2] ?? 2000);
const burstCount = Number(process.argv[3] ?? 10_000);
const stack = await startChildStack(["@alice", "@bob"]);
try {
  const monitor = await stack.owner("@bob");
  monitor.write("monitor m\\.\n");
  // Stats notifications (from @bob) are not counted.
  const arrivals = lineCounter(monitor, `"from":"@alice"`);
  const sender = await stack.owner("@alice");
  const acks = lineCounter(sender, "data:");
  // Warm up the s2s session.
  sender.write("notify:id:warm:@bob:m.warm@alice:v\n");
  await acks.until(1);
  await arrivals.until(1);
  let acked = 1;
  let arrived = 1;

  const ackMs: number[] = [];
  const e2eMs: number[] = [];
  for (let i = 0; i < seqCount; i++) {
    const t0 = performance.now();
    sender.write(`notify:id:seq-${i}:@bob:m.seq${i}@alice:v${i}\n`);
    await acks.until(++acked);
    const t1 = performance.now();
    await arrivals.until(++arrived);
    const t2 = performance.now();
    ackMs.push(t1 - t0);
    e2eMs.push(t2 - t0);
  }
  console.log(JSON.stringify({
    sequential: seqCount,
    clientToAliceAckMs: { p50: ms(pct(ackMs, 50)), p99: ms(pct(ackMs, 99)) },
    endToEndMs: { p50: ms(pct(e2eMs, 50)), p99: ms(pct(e2eMs, 99)) },
  }));

  const t0 = performance.now();
  let next = 0;
  const target = acked + burstCount;
  const done = arrivals.until(arrived + burstCount);
  while (next < burstCount) {
    while (next < burstCount && next - (acked - (target - burstCount)) < WINDOW_LINES) {
      sender.write(`notify:id:burst-${next}:@bob:m.burst${next}@alice:v${next}\n`);
      next++;
    }
    await acks.until(Math.min(target, acked + 1));
    acked++;
  }
  await acks.until(target);
  const tAck = performance.now();
  await done;
  const tAll = performance.now();
  console.log(JSON.stringify({
    burst: burstCount,
    acknowledgedPerSecond: Math.round(burstCount / ((tAck - t0) / 1000)),
    deliveredToMonitorPerSecond: Math.round(burstCount / ((tAll - t0) / 1000)),
    totalSeconds: Number(((tAll - t0) / 1000).toFixed(2)),
  }));
  monitor.close();
  sender.close();
} finally {
  await stack.stop();
}
