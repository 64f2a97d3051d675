/**
 * Notifications end to end with three real servers and a real directory (ATPROTOCOL.md §5.9–§5.11, §6, §7.3):
 * live delivery (exact monitor line), text and notify:all, replay after the receiver's client was offline,
 * delivery after the receiver's server was down, strategy latest, expiry, block list, cached keys and
 * cascade delete, stats notifications, and a slow monitor that is disconnected without slowing anyone.
 * Clients are raw TLS lines.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { startStack, type Stack } from "../harness.ts";
import type { WireClient } from "../wire_client.ts";
import { connectRaw, eventually, notificationsIn, ownerClient, rawAsk, registeredMonitor, untilNotifications } from "./helpers.ts";

let stack: Stack;
let alice: WireClient;

beforeAll(async () => {
  stack = await startStack({ atSigns: ["@alice", "@bob", "@carol"] });
  alice = await ownerClient(stack, "@alice");
});
afterAll(async () => {
  alice.close();
  await stack.stop();
});

const status = async (id: string) => (await alice.send(`notify:status:${id}`)).replace(/^data:/, "");

const monitor = (atSign: string, args = "") => registeredMonitor(stack, atSign, args);

test("live delivery: the exact monitor line, the id end to end, value and metadata, status and fetch", async () => {
  const bob = await monitor("@bob");
  try {
    const id = "live-1";
    expect(await alice.send(`notify:id:${id}:update:messageType:key:notifier:SYSTEM:ivNonce:bm9uY2U=:sharedKeyEnc:c2tl:@bob:phone.wavi@alice:c2VjcmV0`)).toBe(`data:${id}`);
    const all = await bob.until((r) => r.includes(`"id":"${id}"`));
    // After the prompt of the previous answer (if any) comes exactly `notification: {json}\n`.
    const start = all.indexOf(`notification: {"id":"${id}"`);
    const line = all.slice(start, all.indexOf("\n", start) + 1);
    expect(line).toEndWith("}\n");
    const n = JSON.parse(line.slice("notification: ".length));
    expect(n).toEqual({
      id,
      from: "@alice",
      to: "@bob",
      key: "@bob:phone.wavi@alice",
      value: "c2VjcmV0",
      operation: "update",
      epochMillis: n.epochMillis,
      messageType: "MessageType.key",
      isEncrypted: true,
      metadata: { encKeyName: null, encAlgo: null, ivNonce: "bm9uY2U=", skeEncKeyName: null, skeEncAlgo: null, sharedKeyEnc: "c2tl" },
    });
    await eventually(async () => (await status(id)) === "delivered");
    const fetched = JSON.parse((await alice.send(`notify:fetch:${id}`)).slice(5));
    expect(fetched.type).toBe("NotificationType.sent");
    expect(fetched.notificationStatus).toBe("NotificationStatus.delivered");
    expect(await status("no-such-id")).toBe("null");
  } finally {
    bob.close();
  }
});

test("text messages and notify:all reach every recipient", async () => {
  const bob = await monitor("@bob", " hello.bob");
  const carol = await monitor("@carol");
  try {
    expect(await alice.send("notify:id:text-1:messageType:text:isEncrypted:false:@bob:hello bob")).toBe("data:text-1");
    const [t] = await untilNotifications(bob, 1);
    expect(t).toMatchObject({ id: "text-1", key: "@bob:hello bob", messageType: "MessageType.text", isEncrypted: false });
    const all = await alice.send("notify:all:@bob,@carol:hello.wavi@alice:hi");
    const ids = JSON.parse(all.replace(/^data: /, ""));
    expect(Object.keys(ids).sort()).toEqual(["@bob", "@carol"]);
    const [c] = await untilNotifications(carol, 1);
    expect(c).toMatchObject({ id: ids["@carol"], key: "@carol:hello.wavi@alice", value: "hi" });
    // bob's monitor filters by regex: the notify:all key does not match it.
    await eventually(async () => (await status(ids["@bob"])) === "delivered");
    expect(notificationsIn(bob.chunks.join("")).map((n) => n.id)).toEqual(["text-1"]);
  } finally {
    bob.close();
    carol.close();
  }
});

test("an encrypted text keeps what decrypts it (ivNonce, sharedKeyEnc) through both servers, and nothing else", async () => {
  const bob = await monitor("@bob", " ^@bob.y2l");
  try {
    const line = "notify:id:text-enc:messageType:text:isEncrypted:true:ttl:60000:ivNonce:bm9uY2U=:sharedKeyEnc:c2tl:pubKeyCS:abc:@bob:y2lwaGVy";
    expect(await alice.send(line)).toBe("data:text-enc");
    const [t] = await untilNotifications(bob, 1);
    expect(t).toEqual({
      id: "text-enc",
      from: "@alice",
      to: "@bob",
      key: "@bob:y2lwaGVy",
      value: null,
      operation: "update",
      epochMillis: t!.epochMillis,
      messageType: "MessageType.text",
      isEncrypted: true,
      metadata: { encKeyName: null, encAlgo: null, ivNonce: "bm9uY2U=", skeEncKeyName: null, skeEncAlgo: null, sharedKeyEnc: "c2tl" },
    });
    // The stored variant on bob's server: the IV, no expiresAt (ttl is not kept for a text), no sharedKeyEnc.
    const listed = JSON.parse((await bob.send("notify:list")).slice(5)).find((n: { id: string }) => n.id === "text-enc");
    expect(listed.metadata).toEqual({ encKeyName: null, encAlgo: null, ivNonce: "bm9uY2U=", skeEncKeyName: null, skeEncAlgo: null, availableAt: "null", expiresAt: "null" });
  } finally {
    bob.close();
  }
});

test("monitor:<epochMillis> replays what arrived while the client was offline, oldest first", async () => {
  // Replay is strictly after epochMillis; the receiver may store the first one within this millisecond.
  const since = Date.now() - 1;
  for (let i = 0; i < 3; i++) expect(await alice.send(`notify:id:offline-${i}:@bob:offline${i}.app@alice:v${i}`)).toBe(`data:offline-${i}`);
  for (let i = 0; i < 3; i++) await eventually(async () => (await status(`offline-${i}`)) === "delivered");
  const bob = await monitor("@bob", `:${since} offline`);
  try {
    const got = await untilNotifications(bob, 3);
    expect(got.map((n) => n.id)).toEqual(["offline-0", "offline-1", "offline-2"]);
    // The replayed (stored) variant carries availableAt/expiresAt instead of sharedKeyEnc.
    expect(got[0].metadata).toHaveProperty("expiresAt");
    expect(got[0].metadata).not.toHaveProperty("sharedKeyEnc");
    // Live ones follow the replay on the same connection.
    await alice.send("notify:id:offline-live:@bob:offline3.app@alice:v");
    expect((await untilNotifications(bob, 4))[3].id).toBe("offline-live");
  } finally {
    bob.close();
  }
});

test("delivery after the receiver's server was down; strategy latest keeps the newest; ttln expiry", async () => {
  await stack.servers.get("@bob")!.stop();
  for (let i = 0; i < 3; i++) await alice.send(`notify:id:down-${i}:@bob:down${i}@alice:v`);
  for (let i = 0; i < 4; i++) await alice.send(`notify:id:latest-${i}:strategy:latest:latestN:2:notifier:app1:@bob:latest@alice:v${i}`);
  await alice.send("notify:id:short-1:ttln:200:@bob:short@alice:v");
  expect(await status("down-0")).toMatch(/^(queued|errored)$/);
  await eventually(async () => (await status("short-1")) === "expired");
  expect(await status("latest-0")).toBe("expired");
  await stack.addServer("@bob");
  for (let i = 0; i < 3; i++) await eventually(async () => (await status(`down-${i}`)) === "delivered");
  await eventually(async () => (await status("latest-3")) === "delivered");
  const bob = await ownerClient(stack, "@bob");
  try {
    const list = JSON.parse((await bob.send("notify:list:down|latest|short")).slice(5)) as { id: string }[];
    const ids = list.map((n) => n.id);
    expect(ids).toEqual(expect.arrayContaining(["down-0", "down-1", "down-2", "latest-2", "latest-3"]));
    expect(ids).not.toContain("latest-0");
    expect(ids).not.toContain("latest-1");
    expect(ids).not.toContain("short-1");
  } finally {
    bob.close();
  }
});

test("a received notification expires by its ttln on the receiver too", async () => {
  await alice.send("notify:id:brief-1:ttln:300:@carol:brief@alice:v");
  await eventually(async () => (await status("brief-1")) === "delivered" || (await status("brief-1")) === "expired");
  const carol = await ownerClient(stack, "@carol");
  try {
    await eventually(async () => !(await carol.send("notify:list:brief")).includes("brief-1"));
    expect(await carol.send("notify:list:brief")).toBe("data:null");
  } finally {
    carol.close();
  }
});

test("the block list stops delivery until the @sign is unblocked", async () => {
  const carolOwner = await ownerClient(stack, "@carol");
  const carol = await monitor("@carol", " blocked");
  try {
    expect(await carolOwner.send("config:block:add:@alice")).toBe("data:success");
    await alice.send("notify:id:blocked-1:@carol:blocked@alice:v");
    await eventually(async () => (await status("blocked-1")) === "errored");
    expect(notificationsIn(carol.chunks.join(""))).toEqual([]);
    expect(await carolOwner.send("config:block:remove:@alice")).toBe("data:success");
    await eventually(async () => (await status("blocked-1")) === "delivered");
    expect((await untilNotifications(carol, 1))[0].id).toBe("blocked-1");
  } finally {
    carolOwner.close();
    carol.close();
  }
});

test("a key shared with ttr is cached by the recipient and cascade-deleted; stats notifications follow writes", async () => {
  const bob = await ownerClient(stack, "@bob");
  const bobMonitor = await monitor("@bob");
  const aliceMonitor = await monitor("@alice", " card");
  try {
    const commit = (await bob.send("update:ttr:-1:ccd:true:@alice:card@bob hello")).slice(5);
    const stats = await bobMonitor.until((r) => notificationsIn(r, true).some((n) => n.id === "-1"));
    expect(notificationsIn(stats, true).find((n) => n.id === "-1")).toMatchObject({ key: "statsNotification.@bob", value: commit, from: "@bob", to: "@bob", metadata: null });
    const [n] = await untilNotifications(aliceMonitor, 1);
    expect(n).toMatchObject({ from: "@bob", key: "@alice:card@bob", value: "hello" });
    expect(await alice.send("llookup:cached:@alice:card@bob")).toBe("data:hello");
    expect(await alice.send("lookup:card@bob")).toBe("data:hello");
    expect(await bob.send("delete:@alice:card@bob")).toMatch(/^data:\d+$/);
    await eventually(async () => (await alice.send("llookup:cached:@alice:card@bob")).startsWith("error:AT0015"));
    // A third @sign cannot read what bob shared with alice.
    const carol = await ownerClient(stack, "@carol");
    expect(await bob.send("update:@alice:only@bob for-alice")).toMatch(/^data:\d+$/);
    expect(await carol.send("lookup:only@bob")).toStartWith("error:AT0015-");
    expect(await alice.send("lookup:only@bob")).toBe("data:for-alice");
    // Without ttr nothing is cached.
    expect(await alice.send("llookup:cached:@alice:only@bob")).toStartWith("error:AT0015-");
    carol.close();
  } finally {
    bob.close();
    bobMonitor.close();
    aliceMonitor.close();
  }
});

test("a monitor that does not read is disconnected; the others and the sender carry on; replay recovers", async () => {
  const bobServer = stack.servers.get("@bob")!;
  const slow = await connectRaw(bobServer.port, stack.ca);
  const challenge = (await rawAsk(slow, "from:@bob")).slice(5);
  const { cramDigest } = await import("../../core/crypto/index.ts");
  expect(await rawAsk(slow, `cram:${await cramDigest(bobServer.cramSecret, challenge)}`)).toBe("data:success");
  const since = Date.now();
  slow.take();
  slow.write("monitor flood\n");
  await Bun.sleep(50);
  slow.pause();
  const fast = await monitor("@bob", " flood");
  const big = "x".repeat(64 * 1024);
  const count = 200;
  try {
    for (let i = 0; i < count; i++) expect(await alice.send(`notify:id:flood-${i}:@bob:flood${i}@alice:${big}`)).toBe(`data:flood-${i}`);
    expect((await untilNotifications(fast, count, 60_000)).length).toBe(count);
    slow.resume();
    await slow.closed;
    const seen = notificationsIn(slow.received());
    expect(seen.length).toBeLessThan(count);
    // Resume like a client: from the last time seen (minus 1 ms for ties), dropping ids already seen.
    const last = seen.at(-1)?.epochMillis ?? since;
    const again = await monitor("@bob", `:${last - 1} flood`);
    const union = (r: string) => new Set([...seen, ...notificationsIn(r)].map((n) => n.id));
    expect(union(await again.until((r) => union(r).size === count, 60_000)).size).toBe(count);
    again.close();
  } finally {
    fast.close();
    slow.close();
  }
}, 120_000);

test("a notification the receiver rejects (its cached key would be too long) ends as errored without retries", async () => {
  const name = "k".repeat(240);
  expect(await alice.send(`notify:id:too-long:ttr:10:@bob:${name}@alice:v`)).toBe("data:too-long");
  await eventually(async () => (await status("too-long")) === "errored");
  const fetched = JSON.parse((await alice.send("notify:fetch:too-long")).slice(5));
  expect(fetched.retryCount).toBe("1");
});

test("a notification to oneself goes straight to one's monitors; delete notifications; notify:remove", async () => {
  const mine = await monitor("@alice", " note");
  try {
    expect(await alice.send("notify:id:self-1:@alice:note@alice:v")).toBe("data:self-1");
    expect((await untilNotifications(mine, 1))[0]).toMatchObject({ id: "self-1", from: "@alice", to: "@alice", key: "@alice:note@alice" });
    expect(await status("self-1")).toBe("delivered");
    expect(await alice.send("notify:id:del-1:delete:@alice:note@alice")).toBe("data:del-1");
    expect((await untilNotifications(mine, 2))[1]).toMatchObject({ id: "del-1", operation: "delete", value: null });
    expect(await alice.send("notify:remove:self-1")).toBe("data:success");
    expect(await status("self-1")).toBe("null");
    expect(await alice.send("notify:fetch:self-1")).toBe('data:{"id":"self-1","notificationStatus":"NotificationStatus.expired"}');
  } finally {
    mine.close();
  }
});

test("only the owner notifies, and only as itself", async () => {
  expect(await alice.send("notify:@bob:x@carol:v")).toStartWith("error:AT0009-");
  expect(await alice.send("notify:strategy:latest:@bob:x@alice:v")).toStartWith("error:AT0003-");
  const stranger = await connectRaw(stack.servers.get("@alice")!.port, stack.ca);
  expect(await rawAsk(stranger, "notify:all:@bob:x@alice:v")).toStartWith("error:AT0401-");
  expect(await rawAsk(stranger, "notify:@bob:x@alice:v")).toStartWith("error:AT0401-");
  stranger.close();
});

