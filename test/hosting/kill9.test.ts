/**
 * kill -9 of a hosting process (`bun server.ts --hosted DIR`, a child process) in the middle of a burst of
 * notifications between two of its @signs, then a restart on the same folder: every notification the sender
 * acknowledged reaches the recipient (the sender's queue is opened at start), and acknowledged writes are there.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { eventually, pipelineAcks, rawAsk } from "../notify/helpers.ts";
import { startChildHosting, type ChildHosting } from "./child_hosting.ts";
import type { Created } from "./hosting_fixture.ts";

/** Notifications per burst (INLAY_HOSTING_KILL9_N). */
const N = Number(process.env.INLAY_HOSTING_KILL9_N ?? 400);
/** Lines the client writes ahead of their answers. */
const CLIENT_WINDOW_LINES = 32;
const DELIVERY_DEADLINE_MS = 60_000;

let h: ChildHosting;
let ka: Created;
let kb: Created;

/** Pipelines notify lines [from, to) from @ka to @kb; the ids acknowledged before the connection ended. */
async function burst(from: number, to: number, onAck: (acked: number) => void): Promise<string[]> {
  const line = (i: number) => `notify:id:h9-${i}:update:@kb:h9.n${i}@ka:v${i}`;
  return await pipelineAcks(await h.owner(ka), from, to, line, { window: CLIENT_WINDOW_LINES, deadlineMs: DELIVERY_DEADLINE_MS, onAck });
}

async function receivedByKb(): Promise<Set<string>> {
  const c = await h.owner(kb);
  try {
    const answer = await rawAsk(c, "notify:list:h9\\.");
    return answer === "data:null" ? new Set() : new Set((JSON.parse(answer.slice(5)) as { id: string }[]).map((n) => n.id));
  } finally {
    c.close();
  }
}

beforeAll(async () => {
  h = await startChildHosting();
  [ka, kb] = [await h.create("@ka"), await h.create("@kb")];
}, 60_000);

afterAll(async () => {
  await h.stop();
});

test(`kill -9 of the hosting process in the middle of ${N} notifications between two of its @signs loses none acknowledged`, async () => {
  const w = await h.owner(ka);
  expect(await rawAsk(w, "update:@ka:before.kill@ka durable")).toMatch(/^data:\d+$/);
  w.close();
  let killed: Promise<void> | null = null;
  let acked = await burst(0, N, (n) => {
    if (n === Math.floor(N / 2) && !killed) killed = h.kill9().then(() => h.start());
  });
  await killed;
  if (acked.length < N) acked = [...acked, ...(await burst(acked.length, N, () => {}))];
  expect(new Set(acked).size).toBe(N);
  let got = new Set<string>();
  await eventually(async () => {
    got = await receivedByKb();
    return acked.every((id) => got.has(id));
  }, DELIVERY_DEADLINE_MS, 250);
  expect(acked.filter((id) => !got.has(id))).toEqual([]);
  const r = await h.owner(ka);
  expect(await rawAsk(r, "llookup:@ka:before.kill@ka")).toBe("data:durable");
  r.close();
}, DELIVERY_DEADLINE_MS + 60_000);
