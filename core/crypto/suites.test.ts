import { beforeAll, describe, expect, test } from "bun:test";
import { gcm } from "@noble/ciphers/aes.js";
import { x25519 } from "@noble/curves/ed25519.js";
import { hkdf } from "@noble/hashes/hkdf.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { aesCtrEncrypt } from "./aes_ctr.ts";
import { CryptoError } from "./crypto_error.ts";
import { fromBase64, toBase64, utf8 } from "./encoding.ts";
import type { KeyPairText } from "./rsa.ts";
import type { CryptoSuite } from "./suite.ts";
import { DEFAULT_SUITE_ID, SUITES, getSuite, suiteForPublicKey } from "./suites.ts";

const flip = (b64: string, at: number) => {
  const b = fromBase64(b64, "x");
  b[at % b.length]! ^= 1;
  return toBase64(b);
};

for (const suite of Object.values(SUITES) as CryptoSuite[]) {
  describe(`suite ${suite.id}`, () => {
    let alice: KeyPairText, bob: KeyPairText, signer: KeyPairText;
    beforeAll(async () => {
      [alice, bob, signer] = await Promise.all([
        suite.generateEncryptionKeyPair(),
        suite.generateEncryptionKeyPair(),
        suite.generateSigningKeyPair(),
      ]);
    });

    test("wrapKey/unwrapKey round-trip; a wrong key or tampering throws decrypt_failed", () => {
      const key = suite.generateSymmetricKey();
      const wrapped = suite.wrapKey(key, bob.publicKey);
      expect(suite.wrapKey(key, bob.publicKey)).not.toBe(wrapped); // randomised
      expect(suite.unwrapKey(wrapped, bob.privateKey)).toBe(key);
      expect(() => suite.unwrapKey(wrapped, alice.privateKey)).toThrow(expect.objectContaining({ reason: "decrypt_failed" }));
      for (const at of [0, 40, 79]) {
        expect(() => suite.unwrapKey(flip(wrapped, at), bob.privateKey)).toThrow(CryptoError);
      }
    });

    test("encrypt/decrypt round-trip with fresh nonces for empty, small and 1 MiB values", () => {
      const key = suite.generateSymmetricKey();
      for (const size of [0, 1, 1000, 1 << 20]) {
        const plain = crypto.getRandomValues(new Uint8Array(Math.min(size, 65536)));
        const big = size > 65536 ? new Uint8Array(size).fill(7) : plain;
        const sealed = suite.encrypt(key, big);
        expect(sealed.nonce).toBeDefined();
        expect(suite.encrypt(key, big).nonce).not.toBe(sealed.nonce);
        expect(suite.decrypt(key, sealed)).toEqual(big);
      }
    });

    test("decrypt with a wrong key or nonce fails or yields other bytes; GCM detects every change", () => {
      const key = suite.generateSymmetricKey();
      const plain = utf8("a value long enough to span two AES blocks");
      const sealed = suite.encrypt(key, plain);
      const attempts = [
        () => suite.decrypt(suite.generateSymmetricKey(), sealed),
        () => suite.decrypt(key, { ...sealed, nonce: flip(sealed.nonce!, 3) }),
        () => suite.decrypt(key, { ...sealed, ciphertext: flip(sealed.ciphertext, 5) }),
      ];
      for (const attempt of attempts) {
        let out: Uint8Array | undefined;
        try {
          out = attempt();
        } catch (e) {
          expect(e).toBeInstanceOf(CryptoError);
        }
        if (suite.id === "x25519-aes256gcm") expect(out).toBeUndefined();
        else if (out) expect(out).not.toEqual(plain); // CTR: no integrity, only changed bytes
      }
    });

    test("sign/verify; wrong data, key or signature is false", () => {
      const data = utf8("public:location@alice = Lisbon");
      const sig = suite.sign(signer.privateKey, data);
      expect(suite.verify(signer.publicKey, data, sig)).toBe(true);
      expect(suite.verify(signer.publicKey, utf8("other"), sig)).toBe(false);
      expect(suite.verify(alice.publicKey, data, sig)).toBe(false);
      expect(suite.verify(signer.publicKey, data, flip(sig, 7))).toBe(false);
      expect(suite.verify(signer.publicKey, data, "not base64!")).toBe(false);
    });

    test("suiteForPublicKey finds this suite from a recipient's key", () => {
      expect(suiteForPublicKey(bob.publicKey).id).toBe(suite.id);
    });
  });
}

describe("registry", () => {
  test("getSuite by id; unknown ids and key types are unsupported", async () => {
    expect(getSuite(DEFAULT_SUITE_ID).id).toBe("rsa2048-aes256ctr");
    expect(getSuite("x25519-aes256gcm").id).toBe("x25519-aes256gcm");
    expect(() => getSuite("mlkem768-x25519")).toThrow(expect.objectContaining({ reason: "unsupported" }));
    const ed = await SUITES["x25519-aes256gcm"].generateSigningKeyPair();
    expect(() => suiteForPublicKey(ed.publicKey)).toThrow(/no crypto suite for ed25519/);
    expect(() => suiteForPublicKey("AAAA")).toThrow(expect.objectContaining({ reason: "bad_key" }));
  });

  test("the atSDK suite treats a missing nonce as the legacy zero IV", () => {
    const suite = SUITES["rsa2048-aes256ctr"];
    const key = suite.generateSymmetricKey();
    const legacy = toBase64(aesCtrEncrypt(key, utf8("legacy value")));
    expect(new TextDecoder().decode(suite.decrypt(key, { ciphertext: legacy }))).toBe("legacy value");
    expect(() => SUITES["x25519-aes256gcm"].decrypt(key, { ciphertext: legacy })).toThrow(/needs a nonce/);
  });
});

describe("x25519-aes256gcm against @noble", () => {
  test("a wrapped key opens with noble X25519 + HKDF-SHA256 + AES-GCM as documented", async () => {
    const suite = SUITES["x25519-aes256gcm"];
    const bob = await suite.generateEncryptionKeyPair();
    const key = suite.generateSymmetricKey();
    const wrapped = fromBase64(suite.wrapKey(key, bob.publicKey), "wrapped");
    const bobSecret = fromBase64(bob.privateKey, "k").subarray(-32);
    const bobPublic = fromBase64(bob.publicKey, "k").subarray(-32);
    const ephemeral = wrapped.subarray(0, 32);
    const shared = x25519.getSharedSecret(bobSecret, ephemeral);
    const kek = hkdf(sha256, shared, Uint8Array.from([...ephemeral, ...bobPublic]), utf8("inlay x25519-aes256gcm key wrap v1"), 32);
    expect(toBase64(gcm(kek, new Uint8Array(12)).decrypt(wrapped.subarray(32)))).toBe(key);
    const sealed = suite.encrypt(key, utf8("value"));
    const opened = gcm(fromBase64(key, "k"), fromBase64(sealed.nonce!, "n")).decrypt(fromBase64(sealed.ciphertext, "c"));
    expect(new TextDecoder().decode(opened)).toBe("value");
  });
});
