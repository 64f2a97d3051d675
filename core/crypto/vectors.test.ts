/**
 * Re-verifies the checked-in known-answer vectors (test/vectors/crypto.json, made by
 * test/vectors/generate.ts) and the fixture .atKeys file, so a change in any primitive or in the file
 * layout shows up against data written by an earlier build.
 */
import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { ctr } from "@noble/ciphers/aes.js";
import { aesCtrDecrypt, aesCtrEncrypt, ZERO_IV } from "./aes_ctr.ts";
import { decodeAtKeys, encodeAtKeys } from "./atkeys.ts";
import { cramDigest } from "./digests.ts";
import { fromBase64, fromHex, toBase64, utf8 } from "./encoding.ts";
import { verifyPkam } from "./pkam.ts";
import { signPkam } from "./pkam_signer.ts";
import { publicKeyChecksum } from "./public_key_checksum.ts";
import { rsaDecrypt, rsaSign, rsaVerify } from "./rsa.ts";
import { verifySignature } from "./verify_signature.ts";
import type { Sealed } from "./suite.ts";
import { SUITES } from "./suites.ts";

const V = JSON.parse(readFileSync(new URL("../../test/vectors/crypto.json", import.meta.url), "utf8"));
const FIXTURE_PATH = new URL("../../test/fixtures/atkeys/@alice_key.atKeys", import.meta.url);
type SuiteVector = { wrapped: string; privateKey: string; symmetricKey: string; sealed: Sealed; plaintext: string };
const text = (b: Uint8Array) => new TextDecoder().decode(b);

describe("known-answer vectors", () => {
  test("CRAM digest and pubKeyCS", async () => {
    expect(await cramDigest(V.cram.secret, V.cram.challenge)).toBe(V.cram.digest);
    expect(publicKeyChecksum(V.rsa.publicKey)).toBe(V.rsa.pubKeyCS);
  });

  test("AES-256-CTR + PKCS#7: encryption reproduces every ciphertext and decryption inverts it", () => {
    for (const c of V.aesCtr.cases as { plaintext: string; iv: string | null; ciphertext: string }[]) {
      const iv = c.iv === null ? ZERO_IV : fromHex(c.iv, "iv");
      expect(toBase64(aesCtrEncrypt(V.aesCtr.key, utf8(c.plaintext), iv))).toBe(c.ciphertext);
      expect(text(aesCtrDecrypt(V.aesCtr.key, fromBase64(c.ciphertext, "ct"), iv))).toBe(c.plaintext);
    }
  });

  test("RSA: the wrapped key decrypts; signatures are reproduced byte for byte and verify (node:crypto and WebCrypto)", async () => {
    expect(text(rsaDecrypt(V.rsa.privateKey, fromBase64(V.rsa.wrap.ciphertext, "ct")))).toBe(V.rsa.wrap.plaintext);
    for (const hash of ["sha256", "sha512"] as const) {
      expect(toBase64(rsaSign(V.rsa.privateKey, utf8(V.rsa.sign.data), hash))).toBe(V.rsa.sign[hash]);
      expect(rsaVerify(V.rsa.publicKey, utf8(V.rsa.sign.data), fromBase64(V.rsa.sign[hash], "sig"), hash)).toBe(true);
      expect(await verifySignature(`rsa-${hash}`, V.rsa.publicKey, utf8(V.rsa.sign.data), fromBase64(V.rsa.sign[hash], "sig"))).toBe(true);
    }
  });

  test("PKAM signatures of every algorithm verify; Ed25519 is reproduced exactly", async () => {
    const { challenge, rsa2048, ecc_secp256r1, ed25519 } = V.pkam;
    expect(await verifyPkam(challenge, rsa2048.sha256, rsa2048.publicKey)).toBe(true);
    expect(await verifyPkam(challenge, rsa2048.sha512, rsa2048.publicKey, { signingAlgo: "rsa2048", hashingAlgo: "sha512" })).toBe(true);
    expect(await verifyPkam(challenge, ecc_secp256r1.signature, ecc_secp256r1.publicKey, { signingAlgo: "ecc_secp256r1" })).toBe(true);
    expect(await verifyPkam(challenge, ed25519.signature, ed25519.publicKey, { signingAlgo: "ed25519" })).toBe(true);
    expect(signPkam(challenge, { algo: "ed25519", privateKey: ed25519.privateKey })).toBe(ed25519.signature);
  });

  test("each suite unwraps its wrapped key and decrypts its sealed value", () => {
    for (const [id, v] of Object.entries(V.suites) as [keyof typeof SUITES, SuiteVector][]) {
      const suite = SUITES[id];
      expect(suite.unwrapKey(v.wrapped, v.privateKey)).toBe(v.symmetricKey);
      expect(text(suite.decrypt(v.symmetricKey, v.sealed))).toBe(v.plaintext);
    }
  });
});

describe("fixture .atKeys", () => {
  const raw = readFileSync(FIXTURE_PATH, "utf8");

  test("decrypts field by field as the reference specifies (noble AES-CTR, zero IV, PKCS#7) and pairs up", async () => {
    const doc = JSON.parse(raw) as Record<string, string>;
    const self = fromBase64(doc.selfEncryptionKey!, "self key");
    const reveal = (f: string) => {
      const padded = ctr(self, new Uint8Array(16)).decrypt(fromBase64(doc[f]!, f));
      return text(padded.subarray(0, padded.length - padded[padded.length - 1]!));
    };
    const keys = decodeAtKeys(raw, "@alice_key.atKeys");
    expect(keys.atSign).toBe("@alice");
    expect(doc["@alice"]).toBe(doc.selfEncryptionKey!);
    expect(reveal("aesPkamPrivateKey")).toBe(keys.pkamPrivateKey);
    expect(reveal("aesPkamPublicKey")).toBe(keys.pkamPublicKey);
    expect(reveal("aesEncryptPublicKey")).toBe(keys.encryptionPublicKey);
    expect(reveal("aesEncryptPrivateKey")).toBe(keys.encryptionPrivateKey);
    expect(keys.apkamSymmetricKey).toBe(doc.apkamSymmetricKey!);
    expect(keys.enrollmentId).toMatch(/^[0-9a-f-]{36}$/);
    // The PKAM pair signs and verifies; the encryption pair wraps and unwraps.
    expect(await verifyPkam("challenge", signPkam("challenge", { algo: "rsa2048", privateKey: keys.pkamPrivateKey }), keys.pkamPublicKey)).toBe(true);
    const suite = SUITES["rsa2048-aes256ctr"];
    expect(suite.unwrapKey(suite.wrapKey(keys.selfEncryptionKey, keys.encryptionPublicKey), keys.encryptionPrivateKey)).toBe(keys.selfEncryptionKey);
  });

  test("re-encoding reproduces the file byte for byte (zero IV makes the layout deterministic)", () => {
    expect(encodeAtKeys(decodeAtKeys(raw))).toBe(raw);
  });
});
