/**
 * One record must not poison another @sign's server (issue 13, item 3): ttl/ttb/ttr past METADATA_TIME_LIMITS
 * are refused at parse time with AT0003 — from the owner, from an app enrolled for a namespace, and in
 * notifications — and rows an older version stored with such values (written here straight into its sqlite
 * files) are repaired or skipped with a log line at open, so notify:list, the monitor replay and sync:from go on.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { startStack, type Stack } from "./harness.ts";
import { eventually, notificationsIn, ownerClient, startMonitor, untilNotifications } from "./notify/helpers.ts";
import { startServerFixture, type ServerFixture } from "./server_fixture.ts";
import type { WireClient } from "./wire_client.ts";
import { connectApkam, enrollApp, onboardManager } from "./enroll/wire_enroll.ts";
import { dartDate } from "../core/wire/index.ts";
import { asOlderVersion } from "./older_store.ts";

/** Dart's and JS's last representable instant: the value the attack used. */
const POISON = 8_640_000_000_000_000;

const dataOf = (answer: string) => {
  if (!answer.startsWith("data:")) throw new Error(`expected data:, got ${answer}`);
  return JSON.parse(answer.slice(5));
};

/** A monitor of `c` replaying from `since`, registered (the noop answers after the monitor did). */
async function replayingMonitor(c: WireClient, since: number): Promise<void> {
  startMonitor(c, `:${since}`);
  c.raw("noop:0\n");
  await c.until((r) => r.includes("data:ok"));
}

describe("a poisoned notification from another @sign", () => {
  let stack: Stack;
  let bob: WireClient;
  let carol: WireClient;
  beforeAll(async () => {
    stack = await startStack({ atSigns: ["@bob", "@carol"] });
    bob = await ownerClient(stack, "@bob");
    carol = await ownerClient(stack, "@carol");
  });
  afterAll(async () => {
    bob?.close();
    carol?.close();
    await stack?.stop();
  });

  test("is refused with AT0003 at parse time; bob's list, replay and sync go on, new notifications included", async () => {
    const since = Date.now() - 1;
    for (const line of [
      `notify:id:p1:update:ttl:${POISON}:@bob:card.app@carol:v`,
      `notify:id:p2:update:ttb:${POISON}:@bob:card.app@carol:v`,
      `notify:id:p3:update:ttr:${POISON}:ccd:true:@bob:card.app@carol:v`,
      `notify:all:ttr:${POISON}:@bob:card.app@carol:v`,
      `update:ttr:${POISON}:@bob:shared.app@carol v`,
    ]) {
      expect(await carol.send(line)).toStartWith("error:AT0003-Invalid syntax");
    }
    expect(await carol.send("notify:id:ok1:update:ttr:86400:@bob:card.app@carol:v")).toBe("data:ok1");
    await eventually(async () => (await carol.send("notify:status:ok1")) === "data:delivered");
    const list = dataOf(await bob.send("notify:list"));
    expect(list.map((n: { id: string }) => n.id)).toEqual(["ok1"]);
    expect(dataOf(await bob.send("sync:from:-1")).some((e: { atKey: string }) => e.atKey === "cached:@bob:card.app@carol")).toBe(true);
    const monitor = await ownerClient(stack, "@bob");
    try {
      await replayingMonitor(monitor, since);
      expect((await untilNotifications(monitor, 1)).map((n) => n.id)).toEqual(["ok1"]);
      expect(await carol.send("notify:id:ok2:@bob:later.app@carol:v")).toBe("data:ok2");
      expect((await untilNotifications(monitor, 2)).map((n) => n.id)).toEqual(["ok1", "ok2"]);
    } finally {
      monitor.close();
    }
  });
});

describe("on one server", () => {
  let f: ServerFixture;
  let managerId: string;
  let manager: WireClient;
  beforeAll(async () => {
    f = await startServerFixture();
    managerId = await onboardManager(f);
    manager = await connectApkam(f, managerId);
  });
  afterAll(async () => {
    manager?.close();
    await f?.stop();
  });

  test("an app enrolled for wavi:rw cannot store a poisoned ttr; the owner's sync goes on", async () => {
    const app = await connectApkam(f, await enrollApp(f, manager, "wavi", { wavi: "rw" }));
    try {
      expect(await app.send(`update:ttr:${POISON}:@bob:card.wavi@alice v`)).toStartWith("error:AT0003-Invalid syntax");
      expect(await app.send(`update:meta:@bob:card.wavi@alice:ttl:${POISON}`)).toStartWith("error:AT0003-Invalid syntax");
      expect(await app.send(`update:json:{"atKey":"j.wavi","value":"v","sharedBy":"@alice","metadata":{"ttb":${POISON}}}`)).toStartWith("error:AT0003-Invalid syntax");
      expect(await app.send("update:ttr:86400:@bob:card.wavi@alice v")).toMatch(/^data:\d+$/);
      expect(dataOf(await manager.send("sync:from:-1")).some((e: { atKey: string }) => e.atKey === "@bob:card.wavi@alice")).toBe(true);
    } finally {
      app.close();
    }
  });

  test("rows an older version stored past the bounds are repaired, unreadable ones skipped, each with a log line", async () => {
    const now = Date.now();
    await f.server.stop();
    writePoisonedRows(f.dataDir, now);
    const logged: string[] = [];
    const consoleError = console.error;
    console.error = (line: unknown) => void logged.push(String(line));
    try {
      await f.restart();
    } finally {
      console.error = consoleError;
    }
    expect(logged.filter((l) => l.includes("repaired")).length).toBe(2);
    expect(logged.filter((l) => l.includes("not a JSON object")).length).toBe(2);
    manager.close();
    manager = await connectApkam(f, managerId);

    const sync = dataOf(await manager.send("sync:from:-1"));
    const cached = sync.find((e: { atKey: string }) => e.atKey === "cached:@alice:card@carol");
    expect(cached.metadata.ttr).toBe("1000000000000");
    expect(cached.metadata.refreshAt).toBe("275760-09-13 00:00:00.000Z");
    expect(sync.some((e: { atKey: string }) => e.atKey === "broken.wavi@alice")).toBe(false);
    expect(await manager.send("llookup:cached:@alice:card@carol")).toBe("data:hello");

    const list = dataOf(await manager.send("notify:list"));
    expect(list.map((n: { id: string }) => n.id)).toEqual(["old-poison"]);
    const monitor = await connectApkam(f, managerId);
    try {
      await replayingMonitor(monitor, now - 60_000);
      const [n] = await untilNotifications(monitor, 1);
      expect(n.id).toBe("old-poison");
      expect(n.metadata.expiresAt).toBe(dartDate(now + 1e15));
      expect(notificationsIn(await monitor.until(() => true)).some((x) => x.id === "old-garbage")).toBe(false);
    } finally {
      monitor.close();
    }
  });
});

/**
 * What an older version could leave in the stores: metadata past the bounds, and metadata that is not JSON, in
 * files at that version's schema (before the repair migration).
 */
function writePoisonedRows(dataDir: string, now: number): void {
  const ks = asOlderVersion(join(dataDir, "keystore.sqlite"));
  const meta = { createdBy: "@carol", updatedBy: "@alice", createdAt: now, updatedAt: now, version: 0, ttr: POISON, ccd: false, refreshAt: now + POISON * 1000 };
  const nextId = () => (ks.query<{ id: number | null }, []>("SELECT MAX(id) AS id FROM commits").get()?.id ?? -1) + 1;
  ks.query("INSERT INTO keys (key, value, meta) VALUES (?, ?, ?)").run("cached:@alice:card@carol", "hello", JSON.stringify(meta));
  ks.query("INSERT INTO commits (id, key, op, op_time) VALUES (?, ?, ?, ?)").run(nextId(), "cached:@alice:card@carol", "*", now);
  ks.query("INSERT INTO keys (key, value, meta) VALUES (?, ?, ?)").run("broken.wavi@alice", "v", "{not json");
  ks.query("INSERT INTO commits (id, key, op, op_time) VALUES (?, ?, ?, ?)").run(nextId(), "broken.wavi@alice", "*", now);
  ks.close();
  const ns = asOlderVersion(join(dataDir, "notifications.sqlite"));
  const insert = ns.query(
    `INSERT INTO notifications (id, type, from_at, to_at, key, value, op, message_type, priority, strategy, latest_n, notifier, status, created_at, expires_at, next_at, ttln, meta)
     VALUES (?, 'received', '@carol', '@alice', '@alice:card@carol', 'hello', 'update', 'key', 'low', 'all', 1, 'SYSTEM', 'delivered', ?, ?, NULL, 900000, ?)`,
  );
  insert.run("old-poison", now, now + 900_000, JSON.stringify({ isEncrypted: false, ttl: POISON, ttr: POISON, ccd: true }));
  insert.run("old-garbage", now, now + 900_000, "[garbage");
  ns.close();
}
