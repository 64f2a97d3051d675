import { describe, expect, test } from "bun:test";
import { createCipheriv } from "node:crypto";
import { ctr } from "@noble/ciphers/aes.js";
import { AES_BLOCK_BYTES, ZERO_IV, aesCtrDecrypt, aesCtrEncrypt, generateAesKey, generateIv, parseAesKey } from "./aes_ctr.ts";
import { CryptoError } from "./crypto_error.ts";
import { fromBase64, utf8 } from "./encoding.ts";

function pkcs7(data: Uint8Array): Uint8Array {
  const n = 16 - (data.length % 16);
  return Uint8Array.from([...data, ...new Array(n).fill(n)]);
}

/** CTR by hand: AES-ECB of IV, IV+1, … (128-bit big-endian increment) XORed into the padded plaintext. */
function manualCtr(key: Uint8Array, iv: Uint8Array, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(data.length);
  const counter = Uint8Array.from(iv);
  for (let off = 0; off < data.length; off += 16) {
    const ecb = createCipheriv("aes-256-ecb", key, null).setAutoPadding(false);
    const ks = ecb.update(counter);
    for (let i = 0; i < 16 && off + i < data.length; i++) out[off + i] = data[off + i]! ^ ks[i]!;
    for (let i = 15; i >= 0; i--) {
      counter[i] = (counter[i]! + 1) & 0xff;
      if (counter[i] !== 0) break;
    }
  }
  return out;
}

describe("aesCtrEncrypt", () => {
  const key = generateAesKey();
  const raw = parseAesKey(key);
  const wrapIv = new Uint8Array(16).fill(0xff);
  const lengths = [0, 1, 15, 16, 17, 31, 32, 100, 1000];

  test("keys are 44-char base64 of 32 bytes and IVs 16 fresh bytes", () => {
    expect(key).toMatch(/^[A-Za-z0-9+/]{43}=$/);
    expect(generateIv().length).toBe(16);
    expect(generateIv()).not.toEqual(generateIv());
  });

  test("round-trips and pads to a non-zero multiple of 16", () => {
    for (const n of lengths) {
      const plain = crypto.getRandomValues(new Uint8Array(n));
      const iv = generateIv();
      const ct = aesCtrEncrypt(key, plain, iv);
      expect(ct.length).toBe((Math.floor(n / AES_BLOCK_BYTES) + 1) * AES_BLOCK_BYTES);
      expect(aesCtrDecrypt(key, ct, iv)).toEqual(plain);
    }
  });

  test("matches @noble/ciphers ctr over PKCS#7 and a manual ECB construction, including counter wrap", () => {
    for (const iv of [ZERO_IV, generateIv(), wrapIv]) {
      for (const n of lengths) {
        const plain = crypto.getRandomValues(new Uint8Array(n));
        const ours = aesCtrEncrypt(key, plain, iv);
        expect(ours).toEqual(ctr(raw, iv).encrypt(pkcs7(plain)));
        expect(ours).toEqual(manualCtr(raw, iv, pkcs7(plain)));
      }
    }
  });

  test("missing IV means the all-zero IV", () => {
    const plain = utf8("legacy value");
    expect(aesCtrEncrypt(key, plain)).toEqual(aesCtrEncrypt(key, plain, new Uint8Array(16)));
    expect(aesCtrDecrypt(key, aesCtrEncrypt(key, plain, ZERO_IV))).toEqual(plain);
  });

  test("rejects bad lengths, bad keys and bad IVs with CryptoError", () => {
    expect(() => aesCtrDecrypt(key, new Uint8Array(15))).toThrow(CryptoError);
    expect(() => aesCtrDecrypt(key, new Uint8Array(0))).toThrow(CryptoError);
    expect(() => aesCtrEncrypt("c2hvcnQ=", utf8("x"))).toThrow(/32 bytes/);
    expect(() => aesCtrEncrypt(key, utf8("x"), new Uint8Array(12))).toThrow(/IV must be 16/);
  });

  test("tampering with the padding block or using a wrong key fails (almost always) with decrypt_failed", () => {
    const plain = utf8("sixteen byte val");
    const ct = aesCtrEncrypt(key, plain);
    const tampered = Uint8Array.from(ct);
    tampered[ct.length - 1]! ^= 0x20;
    expect(() => aesCtrDecrypt(key, tampered)).toThrow(expect.objectContaining({ reason: "decrypt_failed" }));
    // A wrong key passes the padding check with probability ~1/256 per try; 20 tries all passing is impossible in practice.
    let failures = 0;
    for (let i = 0; i < 20; i++) {
      try {
        aesCtrDecrypt(generateAesKey(), ct);
      } catch (e) {
        if (e instanceof CryptoError && e.reason === "decrypt_failed") failures++;
      }
    }
    expect(failures).toBeGreaterThan(10);
  });

  test("a flipped data bit flips exactly that plaintext bit (CTR malleability, documented)", () => {
    const plain = utf8("0123456789abcdefXYZ");
    const ct = aesCtrEncrypt(key, plain);
    ct[0]! ^= 1;
    const out = aesCtrDecrypt(key, ct);
    expect(out[0]).toBe(plain[0]! ^ 1);
    expect(out.subarray(1)).toEqual(plain.subarray(1));
  });

  test("fromBase64 refuses junk that Buffer would silently skip", () => {
    expect(() => fromBase64("ab!c", "x")).toThrow(/not valid base64/);
    expect(() => fromBase64("abc", "x")).toThrow(/not valid base64/);
  });
});
