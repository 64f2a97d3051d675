/**
 * The gatekeeper (`config:gatekeeper:*`, Inlay's own) with real servers over TLS: an unknown sender's
 * notifications are held (the sender hears success, the owner's monitor and notify:list see nothing) until the
 * owner admits it (released once, in order) or rejects it (dropped); the quarantine stays bounded under a
 * flood; deny rules bind per namespace inbound and outbound; fail-closed refuses unknown senders.
 *
 * "Not seen" is proved with a barrier: the owner's own notification to itself, pushed after the held one was
 * answered, reaches the monitor after anything published before it.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { startStack, type Stack } from "../harness.ts";
import type { WireClient } from "../wire_client.ts";
import { eventually, notificationsIn, ownerClient, registeredMonitor, startTunedServer, untilNotifications } from "./helpers.ts";

let stack: Stack;
let alice: WireClient;
let bob: WireClient;
let carol: WireClient;
let monitor: WireClient;

beforeAll(async () => {
  stack = await startStack({ atSigns: ["@alice", "@bob", "@carol"] });
  [alice, bob, carol] = await Promise.all([ownerClient(stack, "@alice"), ownerClient(stack, "@bob"), ownerClient(stack, "@carol")]);
  monitor = await registeredMonitor(stack, "@carol");
});
afterAll(async () => {
  for (const c of [alice, bob, carol, monitor]) c.close();
  await stack.stop();
});

const statusAt = async (c: WireClient, id: string) => (await c.send(`notify:status:${id}`)).replace(/^data:/, "");
const seenIds = () => notificationsIn(monitor.chunks.join("")).map((n) => n.id as string);
const json = async (c: WireClient, line: string) => JSON.parse((await c.send(line)).replace(/^data:/, ""));
let barriers = 0;
/** Everything pushed to carol's monitor before now has arrived once this returns. */
async function barrier(): Promise<void> {
  const id = `barrier-${++barriers}`;
  expect(await carol.send(`notify:id:${id}:@carol:barrier@carol:x`)).toBe(`data:${id}`);
  await eventually(() => seenIds().includes(id));
}
const nonBarrier = () => seenIds().filter((id) => !id.startsWith("barrier-"));
const inboxIds = async () => ((await json(carol, "notify:list")) as { id: string }[]).map((n) => n.id);

test("an unknown sender is quarantined; admitting it releases its notifications once, in order; rejecting drops them", async () => {
  expect(await carol.send("config:gatekeeper:unknown:in:*:quarantine")).toBe("data:success");
  for (const id of ["q1", "q2"]) expect(await bob.send(`notify:id:${id}:@carol:msg.chat@bob:${id}`)).toBe(`data:${id}`);
  // The sender cannot tell: its notifications are delivered (carol's server answered success).
  await eventually(async () => (await statusAt(bob, "q1")) === "delivered" && (await statusAt(bob, "q2")) === "delivered");
  await barrier();
  expect(nonBarrier()).toEqual([]);
  expect(await inboxIds()).not.toContain("q1");
  const held = await json(carol, "config:gatekeeper:quarantine:list");
  expect(held.senders).toEqual([{ atSign: "@bob", held: 2, bytes: expect.any(Number) }]);

  expect(await json(carol, "config:gatekeeper:quarantine:admit:@bob")).toEqual({ released: 2 });
  await untilNotifications(monitor, barriers + 2);
  expect(await json(carol, "config:gatekeeper:quarantine:admit:@bob")).toEqual({ released: 0 });
  await barrier();
  expect(nonBarrier()).toEqual(["q1", "q2"]);
  expect(await inboxIds()).toEqual(expect.arrayContaining(["q1", "q2"]));
  expect((await json(carol, "config:gatekeeper:show")).admitted).toEqual(["@bob"]);

  // Admitted, bob's next one goes straight through.
  await bob.send("notify:id:q3:@carol:msg.chat@bob:q3");
  await eventually(() => seenIds().includes("q3"));

  // Alice is unknown: held, then rejected (and blocked), and nothing of hers ever reaches the monitor.
  await alice.send("notify:id:r1:@carol:msg.chat@alice:r1");
  await eventually(async () => (await statusAt(alice, "r1")) === "delivered");
  expect(await json(carol, "config:gatekeeper:quarantine:reject:block:@alice")).toEqual({ dropped: 1 });
  expect(await carol.send("config:block:show")).toBe('data:["@alice"]');
  const after = await json(carol, "config:gatekeeper:quarantine:list");
  expect(after.senders).toEqual([]);
  expect(after.dropped.rejected).toBe(1);
  await barrier();
  expect(nonBarrier()).not.toContain("r1");
  expect(await carol.send("config:block:remove:@alice")).toBe("data:success");
});

test("deny binds per namespace inbound (final for the sender); fail-closed refuses unknown senders", async () => {
  expect(await carol.send("config:gatekeeper:deny:in:photos:@bob")).toBe("data:success");
  await bob.send("notify:id:d1:@carol:pic.photos@bob:x");
  await bob.send("notify:id:d2:@carol:msg.chat@bob:x");
  await eventually(async () => (await statusAt(bob, "d1")) === "errored" && (await statusAt(bob, "d2")) === "delivered");

  expect(await carol.send("config:gatekeeper:unknown:in:*:deny")).toBe("data:success");
  await alice.send("notify:id:fc1:@carol:msg.chat@alice:x");
  await eventually(async () => (await statusAt(alice, "fc1")) === "errored");
  // A namespace's own rule beats the default.
  expect(await carol.send("config:gatekeeper:unknown:in:open.chat:allow")).toBe("data:success");
  await alice.send("notify:id:fc2:@carol:hi.open.chat@alice:x");
  await eventually(async () => (await statusAt(alice, "fc2")) === "delivered");
  expect(await carol.send("config:gatekeeper:unknown:in:*:allow")).toBe("data:success");
});

test("outbound deny: no notification to that @sign in that namespace, and its lookups there are refused", async () => {
  expect(await carol.send("config:gatekeeper:deny:out:wavi:@bob")).toBe("data:success");
  expect(await carol.send("notify:id:o1:@bob:phone.wavi@carol:x")).toMatch(/^error:AT0009/);
  expect(await carol.send("notify:id:o2:@bob:phone.other@carol:x")).toBe("data:o2");
  // The write of a shared key stands; only its notification is not sent.
  expect(await carol.send("update:@bob:phone.wavi@carol secret")).toMatch(/^data:\d+$/);
  expect(await carol.send("update:@bob:phone.other@carol fine")).toMatch(/^data:\d+$/);
  expect(await bob.send("lookup:phone.wavi@carol")).toMatch(/^error:/);
  expect(await bob.send("lookup:phone.other@carol")).toBe("data:fine");
  expect(await alice.send("notify:id:o3:@bob:phone.wavi@alice:x")).toBe("data:o3");
});

test("a held notification with ttr creates no cached key until its sender is admitted", async () => {
  expect(await carol.send("config:gatekeeper:unknown:in:*:quarantine")).toBe("data:success");
  try {
    await alice.send("notify:id:t1:update:ttr:60000:@carol:card.chat@alice:v1");
    await eventually(async () => (await statusAt(alice, "t1")) === "delivered");
    expect(await carol.send("llookup:cached:@carol:card.chat@alice")).toStartWith("error:AT0015");
    expect(await json(carol, "config:gatekeeper:quarantine:admit:@alice")).toEqual({ released: 1 });
    expect(await carol.send("llookup:cached:@carol:card.chat@alice")).toBe("data:v1");
  } finally {
    expect(await carol.send("config:gatekeeper:unknown:in:*:allow")).toBe("data:success");
  }
});

test("notify:multi and notify:all with one denied recipient queue nothing", async () => {
  expect(await carol.send("config:gatekeeper:deny:out:secret:@bob")).toBe("data:success");
  expect(await carol.send("notify:multi:@alice,@bob:x.secret@carol:v")).toStartWith("error:AT0009");
  expect(await carol.send("notify:all:@alice,@bob:x.secret")).toStartWith("error:AT0009");
  // Delivery to one recipient keeps the queue's order: once the allowed one arrived, a queued secret would have.
  const ids = await json(carol, "notify:multi:@alice,@bob:x.public@carol:v");
  await eventually(async () => (await statusAt(carol, ids["@alice"])) === "delivered");
  const inbox = await alice.send("notify:list");
  expect(inbox).toContain("x.public");
  expect(inbox).not.toContain("x.secret");
});

test("a notification queued before the owner denied its namespace is refused at delivery, unsent", async () => {
  const { server, client: ivy } = await startTunedServer(stack, "@ivy", { delivery: { retryBaseMs: 50, retryMaxMs: 200, quarantineBaseMs: 50, quarantineMaxMs: 200 } });
  try {
    // Bob refuses ivy for now, so both stay queued, failing together.
    expect(await bob.send("config:block:add:@ivy")).toBe("data:success");
    await ivy.send("notify:id:late1:@bob:phone.wavi@ivy:x");
    await ivy.send("notify:id:late2:@bob:phone.other@ivy:x");
    await eventually(async () => (await statusAt(ivy, "late1")) === "errored" && (await statusAt(ivy, "late2")) === "errored");
    expect(await ivy.send("config:gatekeeper:deny:out:wavi:@bob")).toBe("data:success");
    expect(await bob.send("config:block:remove:@ivy")).toBe("data:success");
    // The refusal at delivery is counted: wait for that event, then late1 is final and was never sent.
    await eventually(async () => (await json(ivy, "config:gatekeeper:quarantine:list")).dropped.deniedAtDelivery === 1);
    await eventually(async () => (await statusAt(ivy, "late2")) === "delivered");
    expect(await statusAt(ivy, "late1")).toBe("errored");
    const inbox = await bob.send("notify:list");
    expect(inbox).toContain("late2");
    expect(inbox).not.toContain("late1");
  } finally {
    ivy.close();
    await server.stop();
  }
});

test("a flood from one unknown sender stays within its cap; the total cap drops the oldest; all counted", async () => {
  let { server, client: dave } = await startTunedServer(stack, "@dave", { gate: { perSenderNotifications: 3, perSenderBytes: 2_000, maxSenders: 1 } });
  try {
    expect(await dave.send("config:gatekeeper:unknown:in:*:quarantine")).toBe("data:success");
    for (let i = 0; i < 8; i++) await bob.send(`notify:id:f${i}:@dave:m${i}.chat@bob:v`);
    await bob.send(`notify:id:big:@dave:big.chat@bob:${"x".repeat(3_000)}`);
    await eventually(async () => (await statusAt(bob, "big")) === "delivered" && (await statusAt(bob, "f7")) === "delivered");
    let q = await json(dave, "config:gatekeeper:quarantine:list");
    expect(q.senders.map((s: any) => [s.atSign, s.held])).toEqual([["@bob", 3]]);
    expect(q.dropped).toMatchObject({ overSenderCap: 5, tooLarge: 1 });

    await alice.send("notify:id:a1:@dave:m.chat@alice:v");
    await eventually(async () => (await statusAt(alice, "a1")) === "delivered");
    q = await json(dave, "config:gatekeeper:quarantine:list");
    expect(q.senders.map((s: any) => [s.atSign, s.held])).toEqual([["@alice", 1]]);
    expect(q.dropped.overTotalCap).toBe(3);
    // The quarantine and its counters survive a restart.
    dave.close();
    await server.stop();
    ({ server, client: dave } = await startTunedServer(stack, "@dave", { gate: { perSenderNotifications: 3, perSenderBytes: 2_000, maxSenders: 1 } }));
    expect(await json(dave, "config:gatekeeper:quarantine:list")).toEqual(q);
    // What is left is the newest: admitting bob now releases nothing, alice her one.
    expect(await json(dave, "config:gatekeeper:quarantine:admit:@bob")).toEqual({ released: 0 });
    expect(await json(dave, "config:gatekeeper:quarantine:admit:@alice")).toEqual({ released: 1 });
  } finally {
    dave.close();
    await server.stop();
  }
});

test("a malformed gatekeeper line is AT0003 and the connection stays", async () => {
  expect(await carol.send("config:gatekeeper:unknown:out:*:quarantine")).toMatch(/^error:AT0003/);
  expect(await carol.send("config:gatekeeper:allow:in:wavi:bob")).toMatch(/^error:AT0003/);
  expect(await carol.send("noop:0")).toBe("data:ok");
});
