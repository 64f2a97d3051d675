import { beforeAll, describe, expect, test } from "bun:test";
import { p256 } from "@noble/curves/nist.js";
import { ed25519 } from "@noble/curves/ed25519.js";
import { Buffer } from "node:buffer";
import { CryptoError } from "./crypto_error.ts";
import { fromBase64, fromHex, toBase64, toHex, utf8 } from "./encoding.ts";
import { p256Sign } from "./p256.ts";
import { PKAM_SIGNING_ALGOS, type PkamSigningAlgo, parsePkamAlgo, verifyPkam } from "./pkam.ts";
import { generatePkamKeyPair, signPkam } from "./pkam_signer.ts";
import type { KeyPairText } from "./rsa.ts";

const challenge = "_0c6a7e58-3b7f-4e1e-a0d4-7f0f9c3b2a11@alice:2f9d1c7e-5a4b-4c3d-9e8f-1a2b3c4d5e6f";
const keys = {} as Record<PkamSigningAlgo, KeyPairText>;
const others = {} as Record<PkamSigningAlgo, KeyPairText>;
const P256_N = p256.Point.CURVE().n;

beforeAll(async () => {
  for (const algo of PKAM_SIGNING_ALGOS) {
    [keys[algo], others[algo]] = await Promise.all([generatePkamKeyPair(algo), generatePkamKeyPair(algo)]);
  }
});

describe("signPkam / verifyPkam", () => {
  test("every algorithm round-trips; wrong challenge, key or tampered signature fail", async () => {
    for (const algo of PKAM_SIGNING_ALGOS) {
      const sig = signPkam(challenge, { algo, privateKey: keys[algo].privateKey });
      expect(await verifyPkam(challenge, sig, keys[algo].publicKey, { signingAlgo: algo })).toBe(true);
      expect(await verifyPkam(challenge + "x", sig, keys[algo].publicKey, { signingAlgo: algo })).toBe(false);
      expect(await verifyPkam(challenge, sig, others[algo].publicKey, { signingAlgo: algo })).toBe(false);
      const raw = fromBase64(sig, "sig");
      raw[raw.length - 1]! ^= 1;
      expect(await verifyPkam(challenge, toBase64(raw), keys[algo].publicKey, { signingAlgo: algo })).toBe(false);
      expect(await verifyPkam(challenge, "%%%", keys[algo].publicKey, { signingAlgo: algo })).toBe(false);
    }
  });

  test("absent fields mean rsa2048 + sha256; rsa2048 honours sha512", async () => {
    const rsa = { algo: "rsa2048" as const, privateKey: keys.rsa2048.privateKey };
    expect(await verifyPkam(challenge, signPkam(challenge, rsa), keys.rsa2048.publicKey)).toBe(true);
    const s512 = signPkam(challenge, rsa, "sha512");
    expect(await verifyPkam(challenge, s512, keys.rsa2048.publicKey, { signingAlgo: "rsa2048", hashingAlgo: "sha512" })).toBe(true);
    expect(await verifyPkam(challenge, s512, keys.rsa2048.publicKey)).toBe(false);
  });

  test("a key of another algorithm never verifies", async () => {
    const sig = signPkam(challenge, { algo: "ed25519", privateKey: keys.ed25519.privateKey });
    expect(await verifyPkam(challenge, sig, keys.rsa2048.publicKey, { signingAlgo: "rsa2048" })).toBe(false);
    expect(await verifyPkam(challenge, sig, keys.ed25519.publicKey, { signingAlgo: "ecc_secp256r1" })).toBe(false);
  });

  test("unknown algorithm names throw CryptoError('unsupported')", async () => {
    await expect(verifyPkam(challenge, "AAAA", keys.rsa2048.publicKey, { signingAlgo: "dsa" })).rejects.toThrow(CryptoError);
    expect(() => parsePkamAlgo({ hashingAlgo: "md5" })).toThrow(expect.objectContaining({ reason: "unsupported" }));
    expect(parsePkamAlgo({})).toEqual({ signingAlgo: "rsa2048", hashingAlgo: "sha256" });
  });
});

describe("P-256 in the at_chops text layout", () => {
  const data = utf8(challenge);
  // PKAM over `challenge` with the ASCII compact-hex signature bytes `sig`, as at_chops sends them.
  const verifyP256 = (publicKey: string, sig: Uint8Array) => verifyPkam(challenge, toBase64(sig), publicKey, { signingAlgo: "ecc_secp256r1" });

  test("keys are 04‖X‖Y hex and a 32-byte scalar hex; the signature is ASCII compact hex r‖s", async () => {
    expect(keys.ecc_secp256r1.publicKey).toMatch(/^04[0-9a-f]{128}$/);
    expect(keys.ecc_secp256r1.privateKey).toMatch(/^[0-9a-f]{64}$/);
    expect(toHex(p256.getPublicKey(fromHex(keys.ecc_secp256r1.privateKey, "d"), false))).toBe(keys.ecc_secp256r1.publicKey);
    const sig = new TextDecoder().decode(p256Sign(keys.ecc_secp256r1.privateKey, data));
    expect(sig).toMatch(/^[0-9a-f]{128}$/);
  });

  test("cross-checks with @noble/curves both ways, and accepts high-S signatures as old Dart ecdsa made them", async () => {
    const { publicKey, privateKey } = keys.ecc_secp256r1;
    const ours = new TextDecoder().decode(p256Sign(privateKey, data));
    expect(p256.verify(fromHex(ours, "sig"), data, fromHex(publicKey, "pub"), { lowS: false })).toBe(true);
    const noble = p256.Signature.fromBytes(p256.sign(data, fromHex(privateKey, "d")));
    const low = utf8(toHex(noble.toBytes("compact")));
    expect(await verifyP256(publicKey, low)).toBe(true);
    const high = new p256.Signature(noble.r, P256_N - noble.s);
    expect(await verifyP256(publicKey, utf8(toHex(high.toBytes("compact"))))).toBe(true);
    expect(await verifyP256(publicKey, utf8(toHex(high.toBytes("compact")).toUpperCase()))).toBe(true);
  });

  test("malformed keys and signatures fail cleanly", async () => {
    const { publicKey, privateKey } = keys.ecc_secp256r1;
    const sig = p256Sign(privateKey, data);
    expect(await verifyP256("02" + publicKey.slice(2, 66), sig)).toBe(false); // compressed form not accepted
    expect(await verifyP256("04" + "00".repeat(64), sig)).toBe(false); // not on the curve
    expect(await verifyP256(publicKey, sig.subarray(0, 120))).toBe(false);
    expect(await verifyP256(publicKey, fromHex(new TextDecoder().decode(sig), "raw"))).toBe(false); // raw bytes, not ASCII hex
    expect(() => p256Sign("00".repeat(32), data)).toThrow(CryptoError);
  });
});

describe("Ed25519", () => {
  test("signatures equal @noble/curves' (deterministic) and verify both ways", async () => {
    const { publicKey, privateKey } = keys.ed25519;
    const seed = fromBase64(privateKey, "k").subarray(-32); // PKCS#8 for Ed25519 ends with the 32-byte seed
    const raw = fromBase64(publicKey, "k").subarray(-32);
    expect(ed25519.getPublicKey(seed)).toEqual(raw);
    const ours = fromBase64(signPkam(challenge, { algo: "ed25519", privateKey }), "sig");
    expect(Buffer.from(ours).equals(Buffer.from(ed25519.sign(utf8(challenge), seed)))).toBe(true);
    expect(ed25519.verify(ours, utf8(challenge), raw)).toBe(true);
  });
});
