import { expect, test } from "bun:test";
import {
  monitorLine,
  notificationJson,
  notificationListJson,
  notifyFetchJson,
  notifyFetchMissingJson,
  statsNotificationJson,
  type NotificationView,
} from "./notification_json.ts";

const T0 = Date.UTC(2024, 9, 24, 10, 0, 0, 0);

const n: NotificationView = {
  id: "n1",
  from: "@alice",
  to: "@bob",
  key: "@bob:phone.wavi@alice",
  value: "Y2lw",
  operation: "update",
  epochMillis: 1700000000000,
  messageType: "key",
  isEncrypted: true,
  metadata: { ivNonce: "aXY=", sharedKeyEnc: "c2s=", expiresAt: T0 },
};

test("notificationJson() live variant: field order, Dart enum, nulls kept, sharedKeyEnc last", () => {
  expect(notificationJson(n, "live")).toBe(
    '{"id":"n1","from":"@alice","to":"@bob","key":"@bob:phone.wavi@alice","value":"Y2lw","operation":"update",' +
      '"epochMillis":1700000000000,"messageType":"MessageType.key","isEncrypted":true,' +
      '"metadata":{"encKeyName":null,"encAlgo":null,"ivNonce":"aXY=","skeEncKeyName":null,"skeEncAlgo":null,"sharedKeyEnc":"c2s="}}',
  );
});

test("notificationJson() stored variant: availableAt/expiresAt as Dart strings, no sharedKeyEnc", () => {
  expect(notificationJson(n, "stored")).toBe(
    '{"id":"n1","from":"@alice","to":"@bob","key":"@bob:phone.wavi@alice","value":"Y2lw","operation":"update",' +
      '"epochMillis":1700000000000,"messageType":"MessageType.key","isEncrypted":true,' +
      '"metadata":{"encKeyName":null,"encAlgo":null,"ivNonce":"aXY=","skeEncKeyName":null,"skeEncAlgo":null,' +
      '"availableAt":"null","expiresAt":"2024-10-24 10:00:00.000Z"}}',
  );
});

test("statsNotificationJson() and monitorLine() match what clients parse", () => {
  expect(monitorLine(statsNotificationJson("@gary", 229, 100000))).toBe(
    'notification: {"id":"-1","from":"@gary","to":"@gary","key":"statsNotification.@gary","value":"229",' +
      '"operation":"update","epochMillis":100000,"messageType":"MessageType.key","isEncrypted":false,"metadata":null}\n',
  );
});

test("notificationListJson() is null when empty, else an array of stored notifications", () => {
  expect(notificationListJson([])).toBeNull();
  expect(JSON.parse(notificationListJson([n]) ?? "")).toHaveLength(1);
});

test("notifyFetchJson() stringifies every non-string value the Dart way", () => {
  const out = notifyFetchJson({
    id: "n1",
    fromAtSign: "@alice",
    notificationDateTime: T0,
    toAtSign: "@bob",
    notification: "@bob:phone@alice",
    type: "received",
    opType: "update",
    messageType: "key",
    priority: "low",
    notificationStatus: "delivered",
    retryCount: 1,
    strategy: "all",
    depth: 1,
    notifier: "SYSTEM",
    expiresAt: null,
    atValue: null,
    atMetadata: { ttl: 5, isEncrypted: true },
    ttl: 900000,
  });
  expect(out).toBe(
    '{"id":"n1","fromAtSign":"@alice","notificationDateTime":"2024-10-24 10:00:00.000Z","toAtSign":"@bob",' +
      '"notification":"@bob:phone@alice","type":"NotificationType.received","opType":"OperationType.update",' +
      '"messageType":"MessageType.key","priority":"NotificationPriority.low","notificationStatus":"NotificationStatus.delivered",' +
      '"retryCount":"1","strategy":"all","depth":"1","notifier":"SYSTEM","expiresAt":"null","atValue":"null",' +
      '"atMetadata":"{ttl: 5, isEncrypted: true}","ttl":"900000"}',
  );
  expect(notifyFetchMissingJson("x")).toBe('{"id":"x","notificationStatus":"NotificationStatus.expired"}');
});
