import { expect, test } from "bun:test";
import { atSdkSuite } from "../../core/crypto/index.ts";
import { sealShared } from "../data/value_crypto.ts";
import type { WireNotification } from "./notification.ts";
import { notificationOpener } from "./open_notification.ts";

const bob = await atSdkSuite.generateEncryptionKeyPair();
const key = atSdkSuite.generateSymmetricKey();
const wrapped = atSdkSuite.wrapKey(key, bob.publicKey);
const sealed = sealShared({ key, wrappedForRecipient: wrapped, recipientPublicKey: bob.publicKey }, "+1-555");
const base: WireNotification = { id: "n1", from: "@alice", to: "@bob", key: "@bob:phone@alice", value: sealed.value, operation: "update", epochMillis: 1, messageType: "MessageType.key", isEncrypted: true, metadata: null };

test("live notifications decrypt with sharedKeyEnc; replayed ones fetch the sender's shared key once", async () => {
  let fetched = 0;
  const open = notificationOpener({ encryptionPrivateKey: bob.privateKey, fetchWrappedSharedKey: async () => (fetched++, wrapped) });
  const live = await open({ ...base, metadata: { ivNonce: sealed.meta.ivNonce, sharedKeyEnc: wrapped } });
  expect(live).toMatchObject({ value: "+1-555", isEncrypted: true, messageType: "key", operation: "update" });
  expect(fetched).toBe(0);
  const stored = await open({ ...base, metadata: { ivNonce: sealed.meta.ivNonce, availableAt: "null" } });
  expect(stored.value).toBe("+1-555");
  expect(fetched).toBe(1);
});

test("an encrypted text message: the ciphertext after @bob: is opened into value and key", async () => {
  const open = notificationOpener({ encryptionPrivateKey: bob.privateKey, fetchWrappedSharedKey: async () => wrapped });
  const text = sealShared({ key, wrappedForRecipient: wrapped, recipientPublicKey: bob.publicKey }, "lunch at noon?");
  const wire = { ...base, key: `@bob:${text.value}`, value: null, messageType: "MessageType.text", metadata: { ivNonce: text.meta.ivNonce } };
  expect(await open(wire)).toMatchObject({ messageType: "text", isEncrypted: true, value: "lunch at noon?", key: "@bob:lunch at noon?" });
  const garbled = await open({ ...wire, metadata: { ivNonce: sealed.meta.ivNonce, sharedKeyEnc: "bm90IGEga2V5" } });
  expect(garbled).toMatchObject({ value: null, key: wire.key });
  expect(garbled.decryptError).toBeString();
});

test("what cannot be decrypted is yielded with decryptError; clear values and text pass through", async () => {
  const open = notificationOpener({ encryptionPrivateKey: bob.privateKey, fetchWrappedSharedKey: async () => null });
  const missing = await open({ ...base, metadata: { ivNonce: sealed.meta.ivNonce } });
  expect(missing.value).toBeNull();
  expect(missing.decryptError).toContain("no shared key");
  const wrongKey = await open({ ...base, metadata: { ivNonce: sealed.meta.ivNonce, sharedKeyEnc: "bm90IGEga2V5" } });
  expect(wrongKey.value).toBeNull();
  expect(wrongKey.decryptError).toBeString();
  expect((await open({ ...base, value: "plain", isEncrypted: false })).value).toBe("plain");
  const text = await open({ ...base, key: "@bob:hi there", value: null, messageType: "MessageType.text", isEncrypted: false });
  expect(text).toMatchObject({ messageType: "text", value: "hi there" });
});
