/**
 * The SDK's notifications against real atServers (test/harness.ts): alice's client → alice's server → bob's
 * server → bob's monitor, with the value encrypted for bob and decrypted by his monitor; text messages;
 * notify:status moving to delivered; a monitor whose connection is cut from the outside resumes without
 * missing or repeating a notification; replay with `since`; a bad regex is refused. Store-and-forward while
 * the recipient is away: a new run of alice's client notifies and shares with bob while his server is down
 * (bob's public key from alice's own server), delivered once it is back on another port, where the queue and
 * bob's monitor find it through the directory; the monitor says it reconnected and yields each one once.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { AtClient, AtServerError, AtUsageError } from "../../client/index.ts";
import type { MonitorStatus } from "../../client/monitor/at_monitor.ts";
import { startStack, type Stack } from "../harness.ts";
import { collect, eventually, keysFileOf, netOf, onboarded, startCutter } from "./fixture.ts";

let stack: Stack;
let alice: AtClient;
let bob: AtClient;

beforeAll(async () => {
  stack = await startStack({ atSigns: ["@alice", "@bob"] });
  [alice, bob] = await Promise.all([onboarded(stack, "@alice"), onboarded(stack, "@bob")]);
});
afterAll(async () => {
  alice?.close();
  bob?.close();
  await stack?.stop();
});

test("live delivery: bob's monitor yields alice's value decrypted; the wire carried only ciphertext", async () => {
  const m = bob.monitor({ regex: "live\\.wavi" });
  await m.ready;
  const got = collect(m);
  const id = await alice.notify("@bob", "live.wavi", "+1-555-0100");
  await eventually(() => got.items.some((n) => n.id === id), 20_000, "delivery");
  m.close();
  await got.done;
  const n = got.items.find((x) => x.id === id)!;
  expect(n).toMatchObject({ id, from: "@alice", to: "@bob", key: "@bob:live.wavi@alice", operation: "update", messageType: "key", isEncrypted: true, value: "+1-555-0100" });
  expect(n.decryptError).toBeUndefined();
  expect(n.metadata?.sharedKeyEnc).toBeString();
  // bob's server stored the notification encrypted
  const listed = JSON.parse(await bob.command("notify:list:live"));
  const stored = listed.find((x: { id: string }) => x.id === id);
  expect(stored.value).not.toContain("555");
});

test("notify-status moves to delivered", async () => {
  const id = await alice.notify("@bob", "status.wavi", "x1");
  await eventually(async () => (await alice.notifyStatus(id)) === "delivered", 20_000, "delivered status");
  expect(await alice.notifyStatus("no-such-notification")).toBeNull();
});

test("text messages and ttln; ids chosen by the caller are kept end to end", async () => {
  const m = bob.monitor({ regex: "alice" });
  await m.ready;
  const got = collect(m);
  const id = await alice.notify("@bob", "hello bob, lunch at noon?", undefined, { text: true, ttln: 60_000, id: "text-1" });
  expect(id).toBe("text-1");
  await eventually(() => got.items.some((n) => n.id === id), 20_000, "text delivery");
  m.close();
  await got.done;
  expect(got.items.find((n) => n.id === id)).toMatchObject({ messageType: "text", value: "hello bob, lunch at noon?", key: "@bob:hello bob, lunch at noon?", from: "@alice" });
});

test("usage errors: bad recipient, text with @, other owner's key, empty value", async () => {
  await expect(alice.notify("bob!", "k.x", "v")).rejects.toBeInstanceOf(AtUsageError);
  await expect(alice.notify("@bob", "mail me @ home", undefined, { text: true })).rejects.toBeInstanceOf(AtUsageError);
  await expect(alice.notify("@bob", "phone@carol", "v")).rejects.toBeInstanceOf(AtUsageError);
  await expect(alice.notify("@bob", "phone.x", "")).rejects.toBeInstanceOf(AtUsageError);
});

test("a bad regex is refused when the monitor starts", async () => {
  const m = bob.monitor({ regex: "([unclosed" });
  await expect(m.ready).rejects.toBeInstanceOf(AtServerError);
});

test("replay with since: notifications sent while no monitor ran arrive, decrypted (key from shared_key@alice)", async () => {
  const since = Date.now() - 1;
  const ids: string[] = [];
  for (let i = 0; i < 3; i++) ids.push(await alice.notify("@bob", `offline${i}.wavi`, `v${i}`));
  await eventually(async () => (await Promise.all(ids.map((id) => alice.notifyStatus(id)))).every((s) => s === "delivered"), 20_000, "delivery");
  const m = bob.monitor({ regex: "offline", since });
  const got = collect(m);
  await eventually(() => got.items.length >= 3, 20_000, "replay");
  m.close();
  await got.done;
  expect(got.items.map((n) => n.id)).toEqual(ids);
  expect(got.items.map((n) => n.value)).toEqual(["v0", "v1", "v2"]);
});

test("a monitor whose connection is cut resumes from its last notification: nothing missed, nothing twice", async () => {
  const cutter = startCutter(stack.servers.get("@bob")!.port);
  // bob's second client reaches his server only through the cutter
  const bob2 = await AtClient.open({ ...netOf(stack), keysFile: keysFileOf(stack, "@bob"), address: { host: "127.0.0.1", port: cutter.port } });
  const statuses: string[] = [];
  const m = bob2.monitor({ regex: "resume", backoffMs: [50, 100], onStatus: (s) => statuses.push(s) });
  try {
    await m.ready;
    const got = collect(m);
    const sent: string[] = [];
    const send = async (n: number) => {
      for (let i = 0; i < n; i++) sent.push(await alice.notify("@bob", `resume${sent.length}.wavi`, `r${sent.length}`));
    };
    await send(5);
    await eventually(() => got.items.length >= 5, 20_000, "first batch");
    // Cut, keep new connections out while more notifications arrive at bob's server, then let it back in.
    cutter.refuse = true;
    cutter.cut();
    await send(10);
    await eventually(async () => (await Promise.all(sent.map((id) => alice.notifyStatus(id)))).every((s) => s === "delivered"), 20_000, "delivery while cut");
    cutter.refuse = false;
    await send(5);
    await eventually(() => got.items.length >= 20, 30_000, "all after resume");
    // A second cut with nothing in between: the overlap replay must not yield anything twice.
    cutter.cut();
    await eventually(() => statuses.filter((s) => s === "reconnected").length >= 2, 20_000, "second reconnect");
    await send(1);
    await eventually(() => got.items.length >= 21, 20_000, "after second cut");
    m.close();
    await got.done;
    expect(got.items.map((n) => n.id)).toEqual(sent);
    expect(got.items.map((n) => n.value)).toEqual(sent.map((_, i) => `r${i}`));
    expect(statuses).toContain("lost");
  } finally {
    m.close();
    bob2.close();
    cutter.stop();
  }
});

test("the notification value on bob's server is the ciphertext alice's client made (encrypted for bob)", async () => {
  const id = await alice.notify("@bob", "raw.wavi", "secret-value");
  await eventually(async () => (await alice.notifyStatus(id)) === "delivered", 20_000, "delivery");
  const fetched = JSON.parse(await alice.command(`notify:fetch:${id}`));
  expect(fetched.atValue).not.toContain("secret");
});

test("a connection that hangs is caught by the heartbeat deadline and replaced; nothing is lost", async () => {
  const cutter = startCutter(stack.servers.get("@bob")!.port);
  const bob2 = await AtClient.open({ ...netOf(stack), keysFile: keysFileOf(stack, "@bob"), address: { host: "127.0.0.1", port: cutter.port } });
  const statuses: string[] = [];
  const m = bob2.monitor({ regex: "hang", heartbeatMs: 150, backoffMs: [50], onStatus: (s, d) => statuses.push(`${s} ${d ?? ""}`) });
  try {
    await m.ready;
    const got = collect(m);
    cutter.stall = true;
    const ids = [await alice.notify("@bob", "hang1.wavi", "h1"), await alice.notify("@bob", "hang2.wavi", "h2")];
    await eventually(() => statuses.some((s) => s.includes("heartbeat")), 20_000, "heartbeat deadline");
    cutter.stall = false;
    await eventually(() => got.items.length >= 2, 20_000, "delivery after the hang");
    m.close();
    await got.done;
    expect(got.items.map((n) => n.id)).toEqual(ids);
  } finally {
    m.close();
    bob2.close();
    cutter.stop();
  }
});

test("a consumer slower than the stream: the monitor pauses its connection and catches up by replay, in order, once each", async () => {
  const m = bob.monitor({ regex: "slow", queueMaxItems: 4, backoffMs: [20] });
  await m.ready;
  const ids: string[] = [];
  for (let i = 0; i < 20; i++) ids.push(await alice.notify("@bob", `slow${i}.wavi`, `s${i}`));
  const seen: string[] = [];
  for await (const n of m) {
    seen.push(n.id);
    await Bun.sleep(5);
    if (seen.length === ids.length) break;
  }
  expect(seen).toEqual(ids);
});

test("notifying myself: my own monitor (selfNotifications not needed) gets it decrypted", async () => {
  const m = alice.monitor({ regex: "me\\.wavi" });
  await m.ready;
  const got = collect(m);
  const id = await alice.notify("@alice", "me.wavi", "note to self");
  await eventually(() => got.items.some((n) => n.id === id), 20_000, "self delivery");
  m.close();
  await got.done;
  expect(got.items.find((n) => n.id === id)).toMatchObject({ from: "@alice", to: "@alice", value: "note to self" });
});

test("closing the client ends its monitors' iteration", async () => {
  const c = await AtClient.open({ ...netOf(stack), keysFile: keysFileOf(stack, "@bob") });
  const m = c.monitor();
  await m.ready;
  const got = collect(m);
  c.close();
  await got.done;
  expect(got.items).toEqual([]);
});

test("notify and put for bob while his server is down; delivered once it is back on another port", async () => {
  const statuses: { status: MonitorStatus; detail?: string }[] = [];
  const m = bob.monitor({ regex: "saf", backoffMs: [50, 100, 200], onStatus: (status, detail) => statuses.push({ status, detail }) });
  try {
    await m.ready;
    const got = collect(m);
    // alice has talked to bob: her server now keeps his public key.
    const first = await alice.notify("@bob", "saf0.wavi", "before the outage");
    await eventually(() => got.items.some((n) => n.id === first), 20_000, "first notification");

    const oldPort = stack.servers.get("@bob")!.port;
    await stack.servers.get("@bob")!.stop();
    // A new run of alice's client: nothing in memory, and bob's server refuses connections.
    const alice2 = await AtClient.open({ ...netOf(stack), keysFile: keysFileOf(stack, "@alice") });
    let whileDown: string;
    try {
      whileDown = await alice2.notify("@bob", "saf1.wavi", "sent while bob was away");
      await alice2.put("@bob:saf2.wavi", "shared while bob was away");
      expect(await alice2.notifyStatus(whileDown)).toMatch(/^(queued|errored)$/);
    } finally {
      alice2.close();
    }

    const back = await stack.addServer("@bob"); // same data, new port, new directory entry
    expect(back.port).not.toBe(oldPort);
    await eventually(() => got.items.some((n) => n.key === "@bob:saf2.wavi@alice"), 30_000, "delivery after the outage");
    await eventually(async () => (await alice.notifyStatus(whileDown)) === "delivered", 20_000, "status delivered");
    expect(statuses.map((s) => s.status)).toContain("reconnected");
    expect(statuses.find((s) => s.status === "reconnected")!.detail).toMatch(/^replaying from \d+$/);

    const later = await alice.notify("@bob", "saf3.wavi", "after");
    await eventually(() => got.items.some((n) => n.id === later), 20_000, "live again");
    m.close();
    await got.done;
    const keys = got.items.map((n) => n.key);
    expect(keys).toEqual(["@bob:saf0.wavi@alice", "@bob:saf1.wavi@alice", "@bob:saf2.wavi@alice", "@bob:saf3.wavi@alice"]);
    expect(got.items.map((n) => n.value)).toEqual(["before the outage", "sent while bob was away", "shared while bob was away", "after"]);
    expect(new Set(got.items.map((n) => n.id)).size).toBe(4);
    expect((await bob.get("saf2.wavi@alice")).value).toBe("shared while bob was away");
  } finally {
    m.close();
  }
});

test("a monitor that meets another @sign's server at its old address retries instead of giving up", async () => {
  const cutter = startCutter(stack.servers.get("@bob")!.port);
  const bob2 = await AtClient.open({ ...netOf(stack), keysFile: keysFileOf(stack, "@bob"), address: { host: "127.0.0.1", port: cutter.port } });
  const statuses: MonitorStatus[] = [];
  let onRetry: (() => void) | null = null;
  const m = bob2.monitor({
    regex: "moved",
    backoffMs: [50, 100],
    onStatus: (s) => {
      statuses.push(s);
      if (s === "retrying") onRetry?.();
    },
  });
  try {
    await m.ready;
    const got = collect(m);
    // alice's server now answers at bob's address: bob's PKAM there is refused. Once that refusal is seen,
    // bob's own server is back at the address.
    onRetry = () => {
      onRetry = null;
      cutter.targetPort = stack.servers.get("@bob")!.port;
    };
    cutter.targetPort = stack.servers.get("@alice")!.port;
    cutter.cut();
    await eventually(() => statuses.includes("reconnected"), 20_000, "reconnect after the refusal");
    const id = await alice.notify("@bob", "moved.wavi", "found again");
    await eventually(() => got.items.some((n) => n.id === id), 20_000, "delivery");
    expect(statuses).toContain("retrying");
  } finally {
    m.close();
    bob2.close();
    cutter.stop();
  }
});
