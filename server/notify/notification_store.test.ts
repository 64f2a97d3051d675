import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openNotificationStore, type NewNotification, type NotificationStore } from "./notification_store.ts";

let dir: string;
let store: NotificationStore;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "inlay-nstore-"));
  store = openNotificationStore(join(dir, "notifications.sqlite"));
});
afterAll(() => {
  store.close();
  rmSync(dir, { recursive: true, force: true });
});

function n(over: Partial<NewNotification>): NewNotification {
  const now = Date.now();
  return {
    id: "x", type: "sent", from: "@alice", to: "@bob", key: "@bob:k@alice", value: "v", op: "update", messageType: "key",
    priority: "low", strategy: "all", latestN: 1, notifier: "SYSTEM", status: "queued", createdAt: now, expiresAt: now + 60_000,
    ttln: 60_000, meta: { isEncrypted: true }, ...over,
  };
}

test("the file is 0600 and an id is stored once per sender and recipient", () => {
  expect(statSync(join(dir, "notifications.sqlite")).mode & 0o777).toBe(0o600);
  expect(store.insert(n({ id: "a1" })).inserted).toBe(true);
  const again = store.insert(n({ id: "a1", value: "other" }));
  expect(again.inserted).toBe(false);
  expect(again.row.value).toBe("v");
  expect(store.insert(n({ id: "a1", to: "@carol" })).inserted).toBe(true);
  expect(store.byId("a1").length).toBe(2);
});

test("sent rows are due at once; outcomes deliver or reschedule; postpone pauses a recipient", () => {
  const now = Date.now();
  store.insert(n({ id: "d1", to: "@dave" }));
  store.insert(n({ id: "d2", to: "@dave" }));
  expect(store.dueRecipients(now + 1, 10)).toContain("@dave");
  const [r1, r2] = store.due("@dave", now + 1, 10);
  store.recordOutcomes([{ seq: r1!.seq, delivered: true }, { seq: r2!.seq, delivered: false, retryAt: now + 5_000 }]);
  expect(store.byId("d1")[0]!.status).toBe("delivered");
  expect(store.byId("d2")[0]).toMatchObject({ status: "errored", attempts: 1, nextAt: now + 5_000 });
  expect(store.due("@dave", now + 1, 10)).toEqual([]);
  store.postpone("@dave", now + 10_000, now + 20_000);
  expect(store.due("@dave", now + 10_000, 10)).toEqual([]);
  expect(store.due("@dave", now + 20_000, 10).map((r) => r.id)).toEqual(["d2"]);
});

test("strategy latest keeps the newest latestN queued per recipient and notifier", () => {
  for (let i = 0; i < 5; i++) store.insert(n({ id: `l${i}`, to: "@erin", strategy: "latest", latestN: 2, notifier: "app" }));
  store.insert(n({ id: "other", to: "@erin", strategy: "latest", latestN: 1, notifier: "other-app" }));
  expect(store.due("@erin", Date.now() + 1, 10).map((r) => r.id)).toEqual(["l3", "l4", "other"]);
  expect(store.byId("l0")[0]!.status).toBe("expired");
});

test("due rows past their expiry become expired; the inbox skips expired rows and honours since/self", () => {
  const now = Date.now();
  store.insert(n({ id: "old", to: "@fred", expiresAt: now - 1 }));
  expect(store.due("@fred", now, 10)).toEqual([]);
  expect(store.byId("old")[0]!.status).toBe("expired");
  store.insert(n({ id: "r1", type: "received", status: "delivered", from: "@bob", to: "@alice", createdAt: now }));
  store.insert(n({ id: "r2", type: "received", status: "delivered", from: "@bob", to: "@alice", createdAt: now, expiresAt: now - 1 }));
  store.insert(n({ id: "s1", type: "self", status: "delivered", from: "@alice", to: "@alice", createdAt: now }));
  expect(store.inbox({ sinceMs: now - 1, afterSeq: 0, includeSelf: false, limit: 10 }).map((r) => r.id)).toEqual(["r1"]);
  expect(store.inbox({ sinceMs: now - 1, afterSeq: 0, includeSelf: true, limit: 10 }).map((r) => r.id)).toEqual(["r1", "s1"]);
  expect(store.inbox({ sinceMs: now, afterSeq: 0, includeSelf: true, limit: 10 })).toEqual([]);
  expect(store.purgeExpired(now, 100)).toBeGreaterThanOrEqual(2);
});
