import { beforeAll, describe, expect, test } from "bun:test";
import { generateEd25519KeyPair, ed25519Sign } from "./ed25519.ts";
import { fromHex, utf8 } from "./encoding.ts";
import { generateP256KeyPair, p256Sign } from "./p256.ts";
import { type KeyPairText, generateRsaKeyPair, rsaSign } from "./rsa.ts";
import { VERIFY_KEY_CACHE_ENTRIES, verifySignature } from "./verify_signature.ts";

const data = utf8("_5b1f@alice:9e2c-proof");
let rsa: KeyPairText;
let ed: KeyPairText;
let p256: KeyPairText;

beforeAll(async () => {
  [rsa, ed, p256] = await Promise.all([generateRsaKeyPair(), generateEd25519KeyPair(), generateP256KeyPair()]);
});

// Cross-check: the services verify on WebCrypto what the client SDK signs with node:crypto.
describe("verifySignature", () => {
  test("verifies node:crypto signatures of every scheme", async () => {
    expect(await verifySignature("rsa-sha256", rsa.publicKey, data, rsaSign(rsa.privateKey, data, "sha256"))).toBe(true);
    expect(await verifySignature("rsa-sha512", rsa.publicKey, data, rsaSign(rsa.privateKey, data, "sha512"))).toBe(true);
    expect(await verifySignature("ed25519", ed.publicKey, data, ed25519Sign(ed.privateKey, data))).toBe(true);
    const rs = fromHex(new TextDecoder().decode(p256Sign(p256.privateKey, data)), "r‖s");
    expect(await verifySignature("p256-sha256", p256.publicKey, data, rs)).toBe(true);
  });

  test("false, never a rejection, for wrong data, hash, key, signature or key text", async () => {
    const sig = rsaSign(rsa.privateKey, data, "sha256");
    expect(await verifySignature("rsa-sha256", rsa.publicKey, utf8("other"), sig)).toBe(false);
    expect(await verifySignature("rsa-sha512", rsa.publicKey, data, sig)).toBe(false);
    expect(await verifySignature("rsa-sha256", rsa.publicKey, data, sig.subarray(1))).toBe(false);
    expect(await verifySignature("rsa-sha256", rsa.publicKey, data, new Uint8Array(0))).toBe(false);
    expect(await verifySignature("rsa-sha256", ed.publicKey, data, sig)).toBe(false);
    expect(await verifySignature("ed25519", rsa.publicKey, data, ed25519Sign(ed.privateKey, data))).toBe(false);
    expect(await verifySignature("rsa-sha256", "not base64!", data, sig)).toBe(false);
    expect(await verifySignature("p256-sha256", "04" + "00".repeat(64), data, new Uint8Array(64))).toBe(false);
    expect(await verifySignature("p256-sha256", "zz", data, new Uint8Array(64))).toBe(false);
  });

  test("more key texts than the cache holds: each still gets its own answer", async () => {
    const sig = ed25519Sign(ed.privateKey, data);
    // Distinct texts of the same key (a bad prefix) fill the cache with failed imports.
    const junk = Array.from({ length: VERIFY_KEY_CACHE_ENTRIES + 1 }, (_, i) => verifySignature("ed25519", `AAAA${i}`, data, sig));
    expect(await Promise.all(junk)).not.toContain(true);
    expect(await verifySignature("ed25519", ed.publicKey, data, sig)).toBe(true);
  });
});
