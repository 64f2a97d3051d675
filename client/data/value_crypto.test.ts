import { beforeAll, describe, expect, test } from "bun:test";
import { generateAesKey, generateRsaKeyPair, type KeyPairText } from "../../core/crypto/index.ts";
import { AtCryptoError } from "../errors.ts";
import type { RecordMeta, StoredRecord } from "./record.ts";
import { newSymmetricKey, openPublic, openSelf, openSharedAsOwner, openSharedAsRecipient, sealPublic, sealSelf, sealShared, wrapFor, type Sealed } from "./value_crypto.ts";

let alice: KeyPairText;
let bob: KeyPairText;
beforeAll(async () => {
  [alice, bob] = await Promise.all([generateRsaKeyPair(), generateRsaKeyPair()]);
});

const asRecord = (s: Sealed, key = "k@alice"): StoredRecord => ({
  key,
  data: s.value,
  meta: Object.fromEntries(Object.entries(s.meta).filter(([, v]) => v !== null && v !== undefined)) as RecordMeta,
});

function flipLast(b64: string): string {
  const bytes = Buffer.from(b64, "base64");
  bytes[bytes.length - 1]! ^= 0x5a;
  return bytes.toString("base64");
}

describe("self values", () => {
  const selfKey = generateAesKey();
  test("text and binary round trip with a fresh ivNonce each time", () => {
    const a = sealSelf(selfKey, "hello");
    const b = sealSelf(selfKey, "hello");
    expect(a.meta.ivNonce).not.toBe(b.meta.ivNonce);
    expect(a.value).not.toBe(b.value);
    expect(openSelf(selfKey, asRecord(a))).toBe("hello");
    const bytes = new Uint8Array([0, 255, 10, 13, 128]);
    const s = sealSelf(selfKey, bytes);
    expect(s.meta.isBinary).toBe(true);
    expect(openSelf(selfKey, asRecord(s))).toEqual(bytes);
  });
  test("a wrong key or a tampered last block is rejected", () => {
    const s = sealSelf(selfKey, "hello world");
    expect(() => openSelf(generateAesKey(), asRecord(s))).toThrow(AtCryptoError);
    expect(() => openSelf(selfKey, { ...asRecord(s), data: flipLast(s.value) })).toThrow(AtCryptoError);
  });
});

describe("public values", () => {
  test("signed, verified, newline text base64'd", () => {
    const s = sealPublic(alice.privateKey, "two\nlines");
    expect(s.meta.encoding).toBe("base64");
    expect(openPublic(alice.publicKey, asRecord(s))).toBe("two\nlines");
  });
  test("a tampered value, a tampered signature and the wrong key are rejected", () => {
    const s = sealPublic(alice.privateKey, "v1");
    expect(() => openPublic(alice.publicKey, { ...asRecord(s), data: "v2" })).toThrow(AtCryptoError);
    expect(() => openPublic(alice.publicKey, { ...asRecord(s), meta: { dataSignature: flipLast(s.meta.dataSignature!) } })).toThrow(AtCryptoError);
    expect(() => openPublic(bob.publicKey, asRecord(s))).toThrow(AtCryptoError);
    expect(() => openPublic(alice.publicKey, { ...asRecord(s), meta: {} })).toThrow(AtCryptoError);
  });
});

describe("shared values", () => {
  test("owner and recipient both decrypt; another key cannot", () => {
    const key = newSymmetricKey();
    const shared = { key, wrappedForRecipient: wrapFor(bob.publicKey, key), recipientPublicKey: bob.publicKey };
    const s = sealShared(shared, "for bob");
    const rec = asRecord(s, "@bob:k@alice");
    expect(openSharedAsOwner(key, rec)).toBe("for bob");
    expect(openSharedAsRecipient({ encryptionPublicKey: bob.publicKey, encryptionPrivateKey: bob.privateKey }, rec)).toBe("for bob");
    // alice's key pair has a different checksum: refused before any decryption
    expect(() => openSharedAsRecipient({ encryptionPublicKey: alice.publicKey, encryptionPrivateKey: alice.privateKey }, rec)).toThrow(/pubKeyCS/);
    // right checksum, wrong private key
    expect(() => openSharedAsRecipient({ encryptionPublicKey: bob.publicKey, encryptionPrivateKey: alice.privateKey }, rec)).toThrow(AtCryptoError);
  });
  test("without sharedKeyEnc the fallback wrapped key is used", () => {
    const key = newSymmetricKey();
    const wrapped = wrapFor(bob.publicKey, key);
    const s = sealShared({ key, wrappedForRecipient: wrapped, recipientPublicKey: bob.publicKey }, "old style");
    const { sharedKeyEnc: _, ...meta } = asRecord(s).meta;
    const rec = { ...asRecord(s), meta };
    expect(openSharedAsRecipient({ encryptionPublicKey: bob.publicKey, encryptionPrivateKey: bob.privateKey }, rec, wrapped)).toBe("old style");
  });
});
