import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtemp, readFile, readdir, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { aesCtrDecrypt, generateAesKey } from "./aes_ctr.ts";
import {
  ATKEYS_PKAM_ALGO_FIELD,
  type AtKeys,
  AtKeysFileError,
  decodeAtKeys,
  defaultAtKeysPath,
  encodeAtKeys,
  readAtKeysFile,
  writeAtKeysFile,
} from "./atkeys.ts";
import { fromBase64 } from "./encoding.ts";
import { generatePkamKeyPair } from "./pkam_signer.ts";
import { generateRsaKeyPair } from "./rsa.ts";

let dir: string;
let keys: AtKeys;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "inlay-atkeys-"));
  const [pkam, enc] = await Promise.all([generateRsaKeyPair(), generateRsaKeyPair()]);
  keys = {
    atSign: "@alice",
    pkamAlgo: "rsa2048",
    pkamPublicKey: pkam.publicKey,
    pkamPrivateKey: pkam.privateKey,
    encryptionPublicKey: enc.publicKey,
    encryptionPrivateKey: enc.privateKey,
    selfEncryptionKey: generateAesKey(),
    apkamSymmetricKey: generateAesKey(),
    enrollmentId: "0f6a3d2c-1b5e-4f7a-8c9d-2e1f0a3b4c5d",
  };
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe("encodeAtKeys", () => {
  test("writes the reference layout: field order, compact JSON, @sign entry, zero-IV AES fields", () => {
    const text = encodeAtKeys(keys);
    const doc = JSON.parse(text) as Record<string, string>;
    expect(Object.keys(doc)).toEqual([
      "aesPkamPrivateKey",
      "aesPkamPublicKey",
      "aesEncryptPublicKey",
      "aesEncryptPrivateKey",
      "selfEncryptionKey",
      "@alice",
      "apkamSymmetricKey",
      "enrollmentId",
    ]);
    expect(text).toBe(JSON.stringify(doc)); // no whitespace, no trailing newline
    expect(doc["@alice"]).toBe(keys.selfEncryptionKey);
    const open = (f: string) => new TextDecoder().decode(aesCtrDecrypt(keys.selfEncryptionKey, fromBase64(doc[f]!, f)));
    expect(open("aesPkamPrivateKey")).toBe(keys.pkamPrivateKey);
    expect(open("aesEncryptPublicKey")).toBe(keys.encryptionPublicKey);
    expect(ATKEYS_PKAM_ALGO_FIELD in doc).toBe(false);
  });

  test("pre-APKAM keys omit the enrollment fields", () => {
    const { apkamSymmetricKey: _a, enrollmentId: _e, ...legacy } = keys;
    const doc = JSON.parse(encodeAtKeys(legacy));
    expect(Object.keys(doc)).toHaveLength(6);
    expect(decodeAtKeys(encodeAtKeys(legacy))).toEqual(legacy);
  });
});

describe("decodeAtKeys", () => {
  test("round-trips", () => {
    expect(decodeAtKeys(encodeAtKeys(keys))).toEqual(keys);
  });

  test("P-256 and Ed25519 PKAM keys carry the algorithm field and round-trip", async () => {
    for (const algo of ["ecc_secp256r1", "ed25519"] as const) {
      const pair = await generatePkamKeyPair(algo);
      const k: AtKeys = { ...keys, pkamAlgo: algo, pkamPublicKey: pair.publicKey, pkamPrivateKey: pair.privateKey };
      const text = encodeAtKeys(k);
      expect(JSON.parse(text)[ATKEYS_PKAM_ALGO_FIELD]).toBe(algo);
      expect(decodeAtKeys(text)).toEqual(k);
    }
  });

  test("errors name the file and the problem", () => {
    expect(() => decodeAtKeys("{", "/k/a.atKeys")).toThrow("/k/a.atKeys: not JSON");
    const doc = JSON.parse(encodeAtKeys(keys));
    delete doc.aesEncryptPrivateKey;
    expect(() => decodeAtKeys(JSON.stringify(doc), "/k/b.atKeys")).toThrow(/\/k\/b\.atKeys: .*aesEncryptPrivateKey/);
    expect(() => decodeAtKeys(JSON.stringify({ ...doc, [ATKEYS_PKAM_ALGO_FIELD]: "dsa" }), "f")).toThrow(AtKeysFileError);
  });

  test("a wrong selfEncryptionKey is reported, never returned as garbage keys", () => {
    const doc = JSON.parse(encodeAtKeys(keys));
    const other = generateAesKey();
    doc.selfEncryptionKey = other;
    doc["@alice"] = other;
    expect(() => decodeAtKeys(JSON.stringify(doc), "/k/c.atKeys")).toThrow(/\/k\/c\.atKeys: cannot decrypt aesPkam/);
  });

  test("the @sign falls back to the file name when no entry names it", () => {
    const doc = JSON.parse(encodeAtKeys(keys));
    delete doc["@alice"];
    expect(decodeAtKeys(JSON.stringify(doc), "/x/@bob_key.atKeys").atSign).toBe("@bob");
    expect(() => decodeAtKeys(JSON.stringify(doc), "/x/keys.json")).toThrow(/no entry names the @sign/);
  });
});

describe("files", () => {
  test("defaultAtKeysPath is ~/.atsign/keys/@alice_key.atKeys", () => {
    expect(defaultAtKeysPath("alice", "/home/u")).toBe("/home/u/.atsign/keys/@alice_key.atKeys");
    expect(defaultAtKeysPath("@Alice", "/home/u")).toBe("/home/u/.atsign/keys/@alice_key.atKeys");
  });

  test("writeAtKeysFile creates the directory and a 0600 file, replaces atomically, and reads back", async () => {
    const home = join(dir, "home");
    const file = await writeAtKeysFile(keys, defaultAtKeysPath(keys.atSign, home));
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect((await stat(join(home, ".atsign", "keys"))).mode & 0o777).toBe(0o700);
    expect(await readFile(file, "utf8")).toBe(encodeAtKeys(keys));
    expect(await readAtKeysFile(file)).toEqual(keys);
    const rotated = { ...keys, enrollmentId: "11111111-2222-4333-8444-555555555555" };
    await writeAtKeysFile(rotated, file);
    expect((await readAtKeysFile(file)).enrollmentId).toBe(rotated.enrollmentId);
    expect(await readdir(join(home, ".atsign", "keys"))).toEqual(["@alice_key.atKeys"]); // no temp files left
  });

  test("readAtKeysFile names a missing or oversized file", async () => {
    await expect(readAtKeysFile(join(dir, "missing.atKeys"))).rejects.toThrow(/missing\.atKeys: no such file/);
    const big = join(dir, "big.atKeys");
    await writeFile(big, "x".repeat(300_000));
    await expect(readAtKeysFile(big)).rejects.toThrow(/larger than/);
  });
});
