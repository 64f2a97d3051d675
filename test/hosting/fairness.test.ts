/**
 * Per-@sign limits of a hosting process (real TLS, real sqlite): one tenant's connections, keys, bytes and
 * inbound notifications are bounded without touching its neighbours' budgets; a notification past the recipient's
 * budget waits in the sender's queue (AT0028 is retried), it is not lost.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { eventually } from "../notify/helpers.ts";
import { connectWire, type WireClient } from "../wire_client.ts";
import { startHostingFixture, type Created, type HostingFixture } from "./hosting_fixture.ts";

const MAX_CONNECTIONS = 4;
const MAX_KEYS = 30;
const MAX_BYTES = 1024 * 1024;
const INBOUND_PER_MINUTE = 3;

let f: HostingFixture;
let fa: Created;
let fb: Created;
let fc: Created;

beforeAll(async () => {
  f = await startHostingFixture({
    limits: { listener: { maxConnections: MAX_CONNECTIONS }, store: { maxKeys: MAX_KEYS, maxBytes: MAX_BYTES }, inboundNotificationsPerMinute: INBOUND_PER_MINUTE },
    notify: { delivery: { retryBaseMs: 60_000, quarantineBaseMs: 50, pollMs: 200 } },
  });
  [fa, fb, fc] = [await f.create("@fa"), await f.create("@fb"), await f.create("@fc")];
});
afterAll(async () => {
  await f.stop();
});

test("connections are counted per @sign: @fa full, @fb still takes its owner", async () => {
  const held: WireClient[] = [];
  for (let i = 0; i < MAX_CONNECTIONS; i++) held.push(await f.owner(fa));
  // The reference's form: the limit error instead of the first prompt, then close.
  await expect(connectWire(fa.port, f.stack.ca)).rejects.toThrow("AT0012");
  const b = await f.owner(fb);
  expect(await b.send("llookup:nothing.app@fb")).toStartWith("error:AT0015");
  b.close();
  for (const c of held) c.close();
});

test("keys past the ceiling are refused with AT0022; a delete makes room; the neighbour is unaffected", async () => {
  const a = await f.owner(fa);
  let refused = "";
  let stored = 0;
  for (let i = 0; i < MAX_KEYS + 5 && !refused; i++) {
    const r = await a.send(`update:@fa:k${i}.app@fa v${i}`);
    if (r.startsWith("data:")) stored++;
    else refused = r;
  }
  expect(refused).toStartWith("error:AT0022");
  expect(refused).toContain(`${MAX_KEYS} keys`);
  expect(stored).toBeLessThan(MAX_KEYS);
  expect(a.isClosed()).toBe(false);
  expect(await a.send("delete:@fa:k0.app@fa")).toMatch(/^data:/);
  expect(await a.send("update:@fa:again.app@fa v")).toMatch(/^data:/);
  const c = await f.owner(fc);
  expect(await c.send("update:@fc:k.app@fc v")).toMatch(/^data:/);
  a.close();
  c.close();
});

test("bytes past the ceiling are refused with AT0022", async () => {
  const b = await f.owner(fb);
  const value = "x".repeat(100 * 1024);
  let refused = "";
  for (let i = 0; i < 20 && !refused; i++) {
    const r = await b.send(`update:@fb:big${i}.app@fb ${value}`);
    if (!r.startsWith("data:")) refused = r;
  }
  expect(refused).toStartWith("error:AT0022");
  expect(refused).toContain(`${MAX_BYTES} bytes`);
  b.close();
});

test("inbound notifications past @fb's budget wait in @fa's queue; @fc still receives from @fa", async () => {
  // New tenants: the tests above filled @fa's keys and @fb's bytes (a full @sign refuses what it would cache).
  [fa, fb, fc] = [await f.create("@fa2"), await f.create("@fb2"), await f.create("@fc2")];
  const a = await f.owner(fa);
  const ids = Array.from({ length: INBOUND_PER_MINUTE + 2 }, (_, i) => `flood-${i}`);
  for (const id of ids) expect(await a.send(`notify:id:${id}:update:@fb2:${id}.app@fa2:v`)).toBe(`data:${id}`);
  const status = async (id: string) => (await a.send(`notify:status:${id}`)).slice(5);
  const statuses = async () => {
    const out: string[] = [];
    for (const id of ids) out.push(await status(id));
    return out;
  };
  await eventually(async () => (await statuses()).filter((s) => s === "delivered").length === INBOUND_PER_MINUTE);
  expect(await a.send("notify:id:to-fc:update:@fc2:n.app@fa2:v")).toBe("data:to-fc");
  await eventually(async () => (await status("to-fc")) === "delivered");
  // The refused ones failed an attempt (errored, as any refused delivery) and stay queued for their retry.
  expect((await statuses()).filter((s) => s !== "delivered")).toEqual(["errored", "errored"]);
  expect(f.hosting.hosting.pool.tenants.get("@fa2")!.state!.notify.store.pendingCount()).toBe(ids.length - INBOUND_PER_MINUTE);
  const b = await f.owner(fb);
  const received = JSON.parse((await b.send("notify:list:flood")).slice(5)) as { id: string }[];
  expect(received).toHaveLength(INBOUND_PER_MINUTE);
  a.close();
  b.close();
});
