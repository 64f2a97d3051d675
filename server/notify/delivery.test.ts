import { expect, test } from "bun:test";
import { parseNotify } from "../../core/verbs/notify.ts";
import { deliveryLine } from "./delivery.ts";
import type { NotificationRow } from "./notification_store.ts";

const base: NotificationRow = {
  seq: 1, id: "n1", type: "sent", from: "@alice", to: "@bob", key: "@bob:phone.wavi@alice", value: "c2Vj", op: "update",
  messageType: "key", priority: "low", strategy: "all", latestN: 1, notifier: "SYSTEM", status: "queued", attempts: 0,
  createdAt: 0, expiresAt: 1, nextAt: 0, ttln: 900_000, meta: { isEncrypted: true, ttr: 60, ccd: true, ivNonce: "aXY=" },
};

test("a shared-key notification is forwarded with id, ttln, metadata, key and value", () => {
  const line = deliveryLine(base);
  expect(line).toStartWith("notify:id:n1:update:messageType:key:notifier:SYSTEM:ttln:900000:");
  expect(parseNotify(line)).toMatchObject({
    id: "n1", operation: "update", forAtSign: "@bob", atKey: "phone.wavi", atSign: "@alice", value: "c2Vj",
    metadata: { isEncrypted: true, ttr: 60, ccd: true, ivNonce: "aXY=" },
  });
});

test("public-key and text notifications keep their forms", () => {
  expect(parseNotify(deliveryLine({ ...base, key: "public:loc@alice", meta: { isEncrypted: false } }))).toMatchObject({ isPublic: true, atKey: "loc", atSign: "@alice" });
  const text = parseNotify(deliveryLine({ ...base, messageType: "text", key: "@bob:hello there", value: null, meta: { isEncrypted: false } }));
  expect(text).toMatchObject({ messageType: "text", forAtSign: "@bob", atKey: "hello there" });
  expect(text.value).toBeUndefined();
});
