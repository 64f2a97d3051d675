/**
 * The outbound pool: one session per remote @sign reused by every notification, closed when idle, and
 * bounded (the least recently used idle session makes room). Observed from the receivers' side through
 * `stats:1` (their open inbound connections).
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import type { RunningServer } from "../../server/index.ts";
import type { PoolOptions } from "../../server/s2s/outbound_pool.ts";
import { startStack, type Stack } from "../harness.ts";
import type { WireClient } from "../wire_client.ts";
import { eventually, ownerClient, startTunedServer } from "./helpers.ts";

let stack: Stack;
const senders: { server: RunningServer; client: WireClient }[] = [];

/** A sender server with its own pool settings; returns its owner client. */
async function sender(atSign: string, pool: Omit<PoolOptions, "tls">): Promise<WireClient> {
  const s = await startTunedServer(stack, atSign, { pool });
  senders.push(s);
  return s.client;
}

beforeAll(async () => {
  stack = await startStack({ atSigns: ["@bob", "@carol"] });
});
afterAll(async () => {
  for (const s of senders) {
    s.client.close();
    await s.server.stop();
  }
  await stack.stop();
});

async function inbound(c: WireClient): Promise<number> {
  const stats = JSON.parse((await c.send("stats:1")).replace(/^data: /, "")) as { value: number }[];
  return stats[0]!.value;
}

async function deliver(from: WireClient, owner: string, id: string, to: string): Promise<void> {
  expect(await from.send(`notify:id:${id}:${to}:${id}${owner}:v`)).toBe(`data:${id}`);
  await eventually(async () => (await from.send(`notify:status:${id}`)) === "data:delivered");
}

test("one session carries many notifications and closes when idle", async () => {
  const alice = await sender("@alice", { idleMs: 300 });
  const bob = await ownerClient(stack, "@bob");
  try {
    for (let i = 0; i < 20; i++) expect(await alice.send(`notify:id:reuse-${i}:@bob:reuse${i}@alice:v`)).toBe(`data:reuse-${i}`);
    await eventually(async () => (await alice.send("notify:status:reuse-19")) === "data:delivered");
    // bob sees its own client plus exactly one session from alice.
    expect(await inbound(bob)).toBe(2);
    await eventually(async () => (await inbound(bob)) === 1, 10_000);
  } finally {
    bob.close();
  }
});

test("at the bound, opening a session closes the least recently used idle one", async () => {
  const dave = await sender("@dave", { maxSessions: 1 });
  const bob = await ownerClient(stack, "@bob");
  const carol = await ownerClient(stack, "@carol");
  try {
    await deliver(dave, "@dave", "bound-b", "@bob");
    expect(await inbound(bob)).toBe(2);
    await deliver(dave, "@dave", "bound-c", "@carol");
    await eventually(async () => (await inbound(bob)) === 1, 10_000);
    expect(await inbound(carol)).toBe(2);
  } finally {
    bob.close();
    carol.close();
  }
});
