/**
 * Store-and-forward while the recipient is away: once alice has talked to bob, a new run of alice's client
 * can notify bob and share with him while bob's atServer is down (bob's public key comes from alice's own
 * server, `cached:public:publickey@bob`). Both wait in alice's server's queue and arrive when bob's server is
 * back on another port: the queue and bob's monitor find it again through the directory, and the monitor
 * says it reconnected and yields each notification exactly once.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { AtClient } from "../../client/index.ts";
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
