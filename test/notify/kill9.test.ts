/**
 * kill -9 during a burst of notifications loses none that were acknowledged. Both servers run as child
 * processes (`bun server.ts @x --data DIR`, fixed ports so a restart keeps its address); the directory runs
 * here. A raw TLS client pipelines N notify lines to @alice; midway one server is SIGKILLed and restarted;
 * then every id @alice acknowledged must be in @bob's received notifications.
 *
 * N: INLAY_KILL9_N (default 10,000). Timings are printed (burst rate, time until all were delivered).
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { startChildStack, type ChildStack } from "./child_stack.ts";
import { eventually, pipelineAcks, rawAsk } from "./helpers.ts";

/** Notifications per burst. */
const N = Number(process.env.INLAY_KILL9_N ?? 10_000);
/** Lines written ahead of their answers by the test client. */
const CLIENT_WINDOW_LINES = 64;
/** Deadline for a whole burst to be delivered. */
const DELIVERY_DEADLINE_MS = 120_000;

let stack: ChildStack;

/**
 * Pipelines `notify` lines for ids [from, to) to @alice and returns the ids acknowledged before the
 * connection ended. `onAck` runs after each acknowledgement (the test kills a server from it).
 */
async function burst(tag: string, from: number, to: number, onAck: (acked: number) => void): Promise<string[]> {
  const c = await stack.owner("@alice");
  const line = (i: number) => `notify:id:${tag}-${i}:update:messageType:key:notifier:k9:@bob:k9.${tag}${i}@alice:v${i}`;
  return await pipelineAcks(c, from, to, line, { window: CLIENT_WINDOW_LINES, deadlineMs: DELIVERY_DEADLINE_MS, onAck });
}

async function receivedByBob(tag: string): Promise<Set<string>> {
  const c = await stack.owner("@bob");
  try {
    const answer = await rawAsk(c, `notify:list:k9\\.${tag}`);
    if (answer === "data:null") return new Set();
    return new Set((JSON.parse(answer.slice(5)) as { id: string }[]).map((n) => n.id));
  } finally {
    c.close();
  }
}

beforeAll(async () => {
  stack = await startChildStack(["@alice", "@bob"]);
}, 60_000);

afterAll(async () => {
  await stack.stop();
});

for (const victim of ["@bob", "@alice"]) {
  test(`kill -9 of ${victim} in the middle of ${N} notifications loses no acknowledged one`, async () => {
    const tag = victim.slice(1);
    let killed: Promise<void> | null = null;
    const t0 = performance.now();
    let acked = await burst(tag, 0, N, (n) => {
      if (n === Math.floor(N / 2) && !killed) killed = stack.kill9(victim).then(() => stack.start(victim));
    });
    await killed;
    // The sender's own client loses its connection when @alice dies: it reconnects and sends the rest.
    if (acked.length < N) acked = [...acked, ...(await burst(tag, acked.length, N, () => {}))];
    const tBurst = performance.now();
    expect(new Set(acked).size).toBe(N);
    let got = new Set<string>();
    await eventually(async () => {
      got = await receivedByBob(tag);
      return acked.every((id) => got.has(id));
    }, DELIVERY_DEADLINE_MS, 250);
    const tDone = performance.now();
    expect(acked.filter((id) => !got.has(id))).toEqual([]);
    console.log(
      `kill -9 ${victim}: ${N} acknowledged in ${((tBurst - t0) / 1000).toFixed(2)} s (${Math.round(N / ((tBurst - t0) / 1000))}/s incl. restart), ` +
        `all at @bob after ${((tDone - t0) / 1000).toFixed(2)} s`,
    );
  }, DELIVERY_DEADLINE_MS + 60_000);
}
