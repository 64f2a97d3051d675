import { beforeAll, describe, expect, test } from "bun:test";
import { createPrivateKey } from "node:crypto";
import { Buffer } from "node:buffer";
import { generateAesKey } from "./aes_ctr.ts";
import { CryptoError } from "./crypto_error.ts";
import { fromBase64, toBase64, utf8 } from "./encoding.ts";
import { type KeyPairText, generateRsaKeyPair, rsaDecrypt, rsaEncrypt, rsaSign, rsaVerify } from "./rsa.ts";

let alice: KeyPairText;
let bob: KeyPairText;
let n: bigint, e: bigint, d: bigint;

const big = (b64url: string) => BigInt("0x" + Buffer.from(b64url, "base64url").toString("hex"));
const bytesOf = (x: bigint, len: number) => Uint8Array.from(Buffer.from(x.toString(16).padStart(len * 2, "0"), "hex"));
const intOf = (b: Uint8Array) => BigInt("0x" + (Buffer.from(b).toString("hex") || "0"));
function modPow(base: bigint, exp: bigint, mod: bigint): bigint {
  let r = 1n;
  for (base %= mod; exp > 0n; exp >>= 1n, base = (base * base) % mod) if (exp & 1n) r = (r * base) % mod;
  return r;
}
/** Textbook RSA on an encoded message we build ourselves, to reach every unpadding branch. */
const rawEncrypt = (em: Uint8Array) => bytesOf(modPow(intOf(em), e, n), 256);
function em(parts: number[][]): Uint8Array {
  return Uint8Array.from(parts.flat());
}
const nonZero = (len: number) => new Array(len).fill(0x5a);

beforeAll(async () => {
  [alice, bob] = await Promise.all([generateRsaKeyPair(), generateRsaKeyPair()]);
  const jwk = createPrivateKey({ key: Buffer.from(fromBase64(alice.privateKey, "k")), format: "der", type: "pkcs8" }).export({ format: "jwk" });
  n = big(jwk.n!);
  e = big(jwk.e!);
  d = big(jwk.d!);
});

describe("RSA PKCS#1 v1.5 encryption", () => {
  test("keys are base64 DER: SPKI (294 bytes) and PKCS#8, e = 65537", () => {
    expect(fromBase64(alice.publicKey, "pub").length).toBe(294);
    expect(alice.publicKey.startsWith("MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA")).toBe(true);
    expect(e).toBe(65537n);
  });

  test("wraps and unwraps AES key text", () => {
    const key = generateAesKey();
    const ct = rsaEncrypt(alice.publicKey, utf8(key));
    expect(ct.length).toBe(256);
    expect(new TextDecoder().decode(rsaDecrypt(alice.privateKey, ct))).toBe(key);
  });

  test("our ciphertext has the type-2 layout when opened with textbook RSA", () => {
    const msg = utf8(generateAesKey());
    const opened = bytesOf(modPow(intOf(rsaEncrypt(alice.publicKey, msg)), d, n), 256);
    expect([opened[0], opened[1]]).toEqual([0, 2]);
    const sep = opened.indexOf(0, 2);
    expect(sep).toBe(256 - msg.length - 1);
    expect(opened.subarray(2, sep).every((b) => b !== 0)).toBe(true);
    expect(opened.subarray(sep + 1)).toEqual(msg);
  });

  test("decrypts hand-made valid encodings, including minimum padding and an empty message", () => {
    const msg = [1, 2, 3, 0xff];
    expect(rsaDecrypt(alice.privateKey, rawEncrypt(em([[0, 2], nonZero(256 - 3 - msg.length), [0], msg])))).toEqual(Uint8Array.from(msg));
    const long = new Array(256 - 11).fill(7);
    expect(rsaDecrypt(alice.privateKey, rawEncrypt(em([[0, 2], nonZero(8), [0], long])))).toEqual(Uint8Array.from(long));
    expect(rsaDecrypt(alice.privateKey, rawEncrypt(em([[0, 2], nonZero(253), [0]])))).toEqual(new Uint8Array(0));
  });

  test("bad padding never throws: implicit rejection returns a stable unrelated message", () => {
    const msg = [9, 9, 9, 9];
    const bad = [
      em([[1, 2], nonZero(256 - 7), [0], msg]), // first byte not 0
      em([[0, 1], nonZero(256 - 7), [0], msg]), // block type 1
      em([[0, 2], nonZero(254)]), // no separator
      em([[0, 2], nonZero(7), [0], new Array(256 - 10).fill(9)]), // only 7 padding bytes
    ];
    for (const m of bad) {
      const ct = rawEncrypt(m);
      const out = rsaDecrypt(alice.privateKey, ct);
      expect(out.length).toBeLessThanOrEqual(256 - 11);
      expect(rsaDecrypt(alice.privateKey, ct)).toEqual(out);
      expect(Buffer.from(out).includes(Buffer.from(msg))).toBe(false);
    }
  });

  test("a wrong private key or a tampered ciphertext yields other bytes, never the plaintext", () => {
    const key = utf8(generateAesKey());
    const ct = rsaEncrypt(alice.publicKey, key);
    // Under another key the ciphertext may be ≥ that key's modulus (a public fact, about 1 time in 4 here): then
    // it is refused as out of range instead of unpadded. Regression: this test assumed it never was, and flaked.
    let wrong: Uint8Array | null = null;
    try {
      wrong = rsaDecrypt(bob.privateKey, ct);
    } catch (err) {
      expect(err).toBeInstanceOf(CryptoError);
      expect((err as Error).message).toContain("out of range");
    }
    if (wrong) expect(wrong).not.toEqual(key);
    const tampered = Uint8Array.from(ct);
    tampered[100]! ^= 1;
    expect(rsaDecrypt(alice.privateKey, tampered)).not.toEqual(key);
  });

  test("malformed input throws CryptoError", () => {
    expect(() => rsaDecrypt(alice.privateKey, new Uint8Array(255))).toThrow(CryptoError);
    expect(() => rsaDecrypt(alice.privateKey, new Uint8Array(256).fill(0xff))).toThrow(/out of range/);
    expect(() => rsaEncrypt(alice.publicKey, new Uint8Array(246))).toThrow(/too long/);
    expect(() => rsaEncrypt("bm90IGEga2V5", utf8("x"))).toThrow(expect.objectContaining({ reason: "bad_key" }));
    expect(() => rsaEncrypt(alice.privateKey, utf8("x"))).toThrow(CryptoError);
  });
});

describe("RSA PKCS#1 v1.5 signatures", () => {
  const data = utf8("public value");
  const webKey = async (text: string, kind: "spki" | "pkcs8", hash: string) =>
    crypto.subtle.importKey(kind, fromBase64(text, "k"), { name: "RSASSA-PKCS1-v1_5", hash }, false, [kind === "spki" ? "verify" : "sign"]);

  test("SHA-256 and SHA-512 signatures equal WebCrypto's (the scheme is deterministic) and verify both ways", async () => {
    for (const [hash, web] of [["sha256", "SHA-256"], ["sha512", "SHA-512"]] as const) {
      const ours = rsaSign(alice.privateKey, data, hash);
      const theirs = new Uint8Array(await crypto.subtle.sign("RSASSA-PKCS1-v1_5", await webKey(alice.privateKey, "pkcs8", web), data));
      expect(toBase64(ours)).toBe(toBase64(theirs));
      expect(await crypto.subtle.verify("RSASSA-PKCS1-v1_5", await webKey(alice.publicKey, "spki", web), ours, data)).toBe(true);
      expect(rsaVerify(alice.publicKey, data, theirs, hash)).toBe(true);
    }
  });

  test("wrong data, key, hash or a tampered signature fail without throwing", () => {
    const sig = rsaSign(alice.privateKey, data);
    expect(rsaVerify(alice.publicKey, utf8("public valuE"), sig)).toBe(false);
    expect(rsaVerify(bob.publicKey, data, sig)).toBe(false);
    expect(rsaVerify(alice.publicKey, data, sig, "sha512")).toBe(false);
    const bad = Uint8Array.from(sig);
    bad[0]! ^= 1;
    expect(rsaVerify(alice.publicKey, data, bad)).toBe(false);
    expect(rsaVerify("garbage!", data, sig)).toBe(false);
    expect(rsaVerify(alice.publicKey, data, new Uint8Array(3))).toBe(false);
  });
});
