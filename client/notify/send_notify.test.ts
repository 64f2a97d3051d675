import { expect, test } from "bun:test";
import { atSdkSuite, publicKeyChecksum } from "../../core/crypto/index.ts";
import { parseNotify } from "../../core/verbs/notify.ts";
import { AtUsageError } from "../errors.ts";
import { notifyLine, type NotifyContext } from "./send_notify.ts";

const bob = atSdkSuite.generateEncryptionKeyPair();
const key = atSdkSuite.generateSymmetricKey();
const ctx: NotifyContext = {
  me: "@alice",
  sharedKeyFor: async () => ({ key, wrappedForRecipient: atSdkSuite.wrapKey(key, (await bob).publicKey), recipientPublicKey: (await bob).publicKey }),
  send: async () => "unused",
};

test("a key notification: reference order, value sealed like a shared put, metadata for bob", async () => {
  const { id, line } = await notifyLine(ctx, "@Bob", "phone.wavi", "+1-555", { ttln: 60_000 });
  expect(line.startsWith(`notify:id:${id}:messageType:key:ttln:60000:`)).toBe(true);
  const cmd = parseNotify(line);
  expect(cmd).toMatchObject({ id, forAtSign: "@bob", atKey: "phone.wavi", atSign: "@alice", ttln: 60_000, messageType: "key" });
  expect(cmd.metadata.isEncrypted).toBe(true);
  expect(cmd.metadata.pubKeyCS).toBe(publicKeyChecksum((await bob).publicKey));
  const shared = atSdkSuite.unwrapKey(cmd.metadata.sharedKeyEnc!, (await bob).privateKey);
  const clear = atSdkSuite.decrypt(shared, { ciphertext: cmd.value!, nonce: cmd.metadata.ivNonce! });
  expect(new TextDecoder().decode(clear)).toBe("+1-555");
});

test("text messages: ciphertext in the key position with a fresh ivNonce each; plain only with encrypt: false", async () => {
  const lines = await Promise.all([1, 2].map(async () => parseNotify((await notifyLine(ctx, "@bob", "see you at 5", undefined, { text: true })).line)));
  for (const text of lines) {
    expect(text).toMatchObject({ messageType: "text", forAtSign: "@bob", metadata: { isEncrypted: true, pubKeyCS: publicKeyChecksum((await bob).publicKey) } });
    expect(text.atKey).toMatch(/^[A-Za-z0-9+/=]+$/);
    const shared = atSdkSuite.unwrapKey(text.metadata.sharedKeyEnc!, (await bob).privateKey);
    expect(new TextDecoder().decode(atSdkSuite.decrypt(shared, { ciphertext: text.atKey, nonce: text.metadata.ivNonce! }))).toBe("see you at 5");
  }
  expect(lines[0]!.metadata.ivNonce).not.toBe(lines[1]!.metadata.ivNonce);
  expect(lines[0]!.atKey).not.toBe(lines[1]!.atKey);
  const plain = parseNotify((await notifyLine(ctx, "@bob", "see you at 5", undefined, { text: true, encrypt: false, id: "t-1" })).line);
  expect(plain).toMatchObject({ id: "t-1", messageType: "text", atKey: "see you at 5", forAtSign: "@bob", metadata: { isEncrypted: false } });
  expect(plain.metadata.ivNonce).toBeUndefined();
  const del = parseNotify((await notifyLine(ctx, "@bob", "phone.wavi@alice", undefined, { operation: "delete" })).line);
  expect(del).toMatchObject({ operation: "delete", atKey: "phone.wavi", atSign: "@alice" });
  expect(del.value).toBeUndefined();
});

test("encrypt: false sends the value as given, marked isEncrypted:false", async () => {
  const cmd = parseNotify((await notifyLine(ctx, "@bob", "ctl.app", "already-sealed-envelope", { encrypt: false })).line);
  expect(cmd).toMatchObject({ value: "already-sealed-envelope", metadata: { isEncrypted: false } });
  expect(cmd.metadata.sharedKeyEnc).toBeUndefined();
});

test("usage errors before anything is sent", async () => {
  for (const [to, k, v, o] of [
    ["@b c", "k.x", "v", {}],
    ["@bob", "k.x", "v", { id: "has space" }],
    ["@bob", "k.x", "v", { ttln: 0 }],
    ["@bob", "k.x", "v", { operation: "delete" }],
    ["@bob", "a::b", undefined, { text: true }],
    ["@bob", "x", undefined, { text: true }],
    ["@bob", "k.x", "v", { text: true }],
    ["@bob", "k.x", "v", { strategy: "latest" }],
  ] as const) {
    await expect(notifyLine(ctx, to, k, v, o as object)).rejects.toBeInstanceOf(AtUsageError);
  }
});
