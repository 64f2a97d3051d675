import { expect, test } from "bun:test";
import { messageTypeOf, parseNotificationJson, textOf } from "./notification.ts";

test("both variants of the notification JSON parse; junk does not", () => {
  const live = parseNotificationJson(
    '{"id":"n1","from":"@alice","to":"@bob","key":"@bob:phone@alice","value":"djE=","operation":"update","epochMillis":1700000000000,"messageType":"MessageType.key","isEncrypted":true,"metadata":{"encKeyName":null,"encAlgo":null,"ivNonce":"aXY=","skeEncKeyName":null,"skeEncAlgo":null,"sharedKeyEnc":"c2tl"}}',
  );
  expect(live).toMatchObject({ id: "n1", value: "djE=", metadata: { ivNonce: "aXY=", sharedKeyEnc: "c2tl" } });
  const stored = parseNotificationJson(
    '{"id":"n2","from":"@alice","to":"@bob","key":"@bob:hi there","value":null,"operation":"update","epochMillis":1,"messageType":"MessageType.text","isEncrypted":false,"metadata":{"encKeyName":null,"availableAt":"null","expiresAt":"2026-01-01 00:00:00.000Z"}}',
  )!;
  expect(messageTypeOf(stored)).toBe("text");
  expect(textOf(stored)).toBe("hi there");
  expect(messageTypeOf(live!)).toBe("key");
  expect(parseNotificationJson("{")).toBeNull();
  expect(parseNotificationJson('{"id":"n3"}')).toBeNull();
  expect(parseNotificationJson('{"id":"","from":"@a","to":"@b","key":"k","epochMillis":1}')).toBeNull();
});
