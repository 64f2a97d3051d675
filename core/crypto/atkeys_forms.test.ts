/**
 * The three .atKeys forms against fixtures built from the reference layouts (test/vectors/atkeys_fixtures.ts):
 * parse then write gives the same bytes for each, a protected file opens with the right passphrase and names a
 * wrong one, and hostile envelopes and documents are refused before any work is done for them.
 */
import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { FIXTURE_PASSPHRASE } from "../../test/vectors/atkeys_fixtures.ts";
import { aesCtrEncrypt } from "./aes_ctr.ts";
import { AtKeysFileError, AtKeysPassphraseRequired, decodeAtKeysDocument, encodeAtKeys, freshLayout, openAtKeys, protectAtKeys } from "./atkeys.ts";
import { ATKEYS_ARGON2_MAX_MEMORY_KIB, encodeEnvelope, parseEnvelope } from "./atkeys_envelope.ts";
import { toBase64, utf8 } from "./encoding.ts";

const fixture = (name: string) => readFileSync(new URL(`../../test/fixtures/atkeys/${name}`, import.meta.url), "utf8");
const PLAIN = ["@alice_key.atKeys", "legacy_cli_newer.atKeys", "typed_3.3.atKeys"];
const PROTECTED = { "protected_legacy.atKeys": "@alice_key.atKeys", "protected_v1.atKeys": "typed_3.3.atKeys" };
const given = (p: string) => async () => p;

describe("plaintext forms round-trip byte for byte", () => {
  const reference = decodeAtKeysDocument(fixture("@alice_key.atKeys"), "@alice_key.atKeys").keys;
  for (const name of PLAIN) {
    test(name, () => {
      const text = fixture(name);
      const doc = decodeAtKeysDocument(text, name);
      expect(doc.keys).toEqual(reference);
      expect(doc.layout.form).toBe(name.startsWith("typed") ? "typed" : "legacy");
      expect(encodeAtKeys(doc.keys, doc.layout)).toBe(text);
    });
  }

  test("a new typed file has at_auth 3.3's field order, with null for the absent APKAM fields", () => {
    const { apkamSymmetricKey: _a, enrollmentId: _e, ...keys } = reference;
    const doc = JSON.parse(encodeAtKeys(keys, freshLayout(keys, "typed")));
    expect(Object.keys(doc)).toEqual(["aesPkamPublicKey", "aesPkamPrivateKey", "aesEncryptPublicKey", "aesEncryptPrivateKey", "selfEncryptionKey", "apkamSymmetricKey", "enrollmentId", "version", "atsign", "keys"]);
    expect(doc).toMatchObject({ apkamSymmetricKey: null, enrollmentId: null, version: 1, atsign: "@alice", keys: [] });
    expect(decodeAtKeysDocument(JSON.stringify(doc)).keys).toEqual(keys);
  });

  test("key fields a file lacks are added at the end when the keys have them, never as null", () => {
    const doc = JSON.parse(fixture("typed_3.3.atKeys"));
    delete doc.apkamSymmetricKey;
    delete doc.enrollmentId;
    const read = decodeAtKeysDocument(JSON.stringify(doc));
    expect(encodeAtKeys(read.keys, read.layout)).toBe(JSON.stringify(doc));
    const enrolled = JSON.parse(encodeAtKeys({ ...read.keys, enrollmentId: "e1" }, read.layout));
    expect(Object.keys(enrolled).slice(-2)).toEqual(["keys", "enrollmentId"]);
  });

  test("a typed part without status or operations is written as at_auth writes it", () => {
    const doc = JSON.parse(fixture("typed_3.3.atKeys"));
    delete doc.keys[0].keyParts[0].status;
    doc.keys[0].keyParts[1].operations = [];
    const read = decodeAtKeysDocument(JSON.stringify(doc));
    const out = JSON.parse(encodeAtKeys(read.keys, read.layout));
    expect(out.keys[0].keyParts[0].status).toBe("active");
    expect("operations" in out.keys[0].keyParts[1]).toBe(false);
  });
});

describe("protected forms", () => {
  for (const [name, inner] of Object.entries(PROTECTED)) {
    test(`${name}: the envelope round-trips and opens to ${inner} byte for byte`, async () => {
      const text = fixture(name);
      expect(encodeEnvelope(parseEnvelope(JSON.parse(text), name))).toBe(text);
      const opened = await openAtKeys(text, name, given(FIXTURE_PASSPHRASE));
      expect(opened.text).toBe(fixture(inner));
      expect(encodeAtKeys(opened.keys, opened.layout)).toBe(fixture(inner));
    });

    test(`${name}: a wrong passphrase is named, and none at all asks for one`, async () => {
      const text = fixture(name);
      await expect(openAtKeys(text, name, given("correct horse battery stapler"))).rejects.toThrow(`${name}: wrong passphrase`);
      await expect(openAtKeys(text, name)).rejects.toBeInstanceOf(AtKeysPassphraseRequired);
      expect(() => decodeAtKeysDocument(text, name)).toThrow(AtKeysPassphraseRequired);
    });
  }

  test("the legacy derivation is at_chops': UTF-8 secret, UTF-16 code units cut to bytes as salt", async () => {
    // at_chops' captured key for this passphrase; the salt and the secret disagree above U+00FF.
    const key = "XGzc8qzgibytHFwJ+hcv+HnPMkAY8e4ZMezIQFiQyKg=";
    const iv = new Uint8Array(16);
    const inner = fixture("@alice_key.atKeys");
    const text = JSON.stringify({ content: toBase64(aesCtrEncrypt(key, utf8(inner), iv)), iv: toBase64(iv), hashingAlgoType: "argon2id" });
    expect((await openAtKeys(text, "f", given("pässwörd✓"))).text).toBe(inner);
  });

  for (const form of ["v1", "legacy"] as const) {
    test(`protectAtKeys (${form}) wraps the text, which opens back unchanged`, async () => {
      const inner = fixture("typed_3.3.atKeys");
      const text = await protectAtKeys(inner, "another good passphrase", form, "f");
      const env = JSON.parse(text);
      expect("v" in env).toBe(form === "v1");
      expect((await openAtKeys(text, "f", given("another good passphrase"))).text).toBe(inner);
    });
  }

  test("protectAtKeys refuses what is not a plaintext .atKeys file, and passphrases out of bounds", async () => {
    await expect(protectAtKeys(fixture("protected_v1.atKeys"), FIXTURE_PASSPHRASE, "v1", "f")).rejects.toBeInstanceOf(AtKeysPassphraseRequired);
    await expect(protectAtKeys("{}", FIXTURE_PASSPHRASE, "v1", "f")).rejects.toThrow(/not a valid \.atKeys file/);
    await expect(protectAtKeys(fixture("@alice_key.atKeys"), "short", "v1", "f")).rejects.toThrow("f: a passphrase must be at least 8 characters");
    await expect(openAtKeys(fixture("protected_legacy.atKeys"), "f", given("short"))).rejects.toThrow("its Argon2id salt, which must be at least 8 characters");
    await expect(protectAtKeys(fixture("@alice_key.atKeys"), "x".repeat(1025), "v1", "f")).rejects.toThrow(/longer than 1024 bytes/);
  });
});

describe("hostile input is refused with the limit it broke", () => {
  const v1 = () => JSON.parse(fixture("protected_v1.atKeys"));
  const refuse = async (doc: unknown, message: string | RegExp) => {
    await expect(openAtKeys(JSON.stringify(doc), "h.atKeys", given(FIXTURE_PASSPHRASE))).rejects.toThrow(message);
  };

  test("Argon2id costs over the caps, before any derivation", async () => {
    await refuse({ ...v1(), kdfParams: { memory: 4 * 1024 * 1024, iterations: 2, parallelism: 1 } }, `kdfParams.memory 4194304 is over the limit of ${ATKEYS_ARGON2_MAX_MEMORY_KIB} (ATKEYS_ARGON2_MAX_MEMORY_KIB, in KiB)`);
    await refuse({ ...v1(), kdfParams: { memory: 19456, iterations: 1000, parallelism: 1 } }, "kdfParams.iterations 1000 is over the limit of 8");
    await refuse({ ...v1(), kdfParams: { memory: 19456, iterations: 2, parallelism: 64 } }, "kdfParams.parallelism 64 is over the limit of 8");
    await refuse({ ...v1(), kdfParams: { memory: 8, iterations: 2, parallelism: 4 } }, "at least 8 KiB per lane");
    await refuse({ ...v1(), kdfParams: { memory: 1.5, iterations: 2, parallelism: 1 } }, "kdfParams.memory must be a positive integer");
  });

  test("envelope fields: version, algorithm, salt, IV, unknown fields", async () => {
    await refuse({ ...v1(), v: 2 }, "version 2 is not supported");
    await refuse({ ...v1(), hashingAlgoType: "sha512" }, 'hashingAlgoType "sha512" is not supported (only argon2id)');
    await refuse({ ...v1(), salt: toBase64(new Uint8Array(4)) }, "salt must be 8..64 bytes, got 4");
    await refuse({ ...v1(), iv: "AAAA" }, "iv must be 16 bytes, got 3");
    await refuse({ ...v1(), extra: 1 }, 'unexpected field "extra"');
  });

  test("typed documents: version, duplicate keyIds, too many groups, bad parts", async () => {
    const typed = () => JSON.parse(fixture("typed_3.3.atKeys"));
    const decode = (doc: unknown) => () => decodeAtKeysDocument(JSON.stringify(doc), "t.atKeys");
    expect(decode({ ...typed(), version: 2 })).toThrow("typed document version 2 is not supported");
    const dup = typed();
    dup.keys.push(dup.keys[0]);
    expect(decode(dup)).toThrow('keyId "sign:ed25519:1" appears twice');
    expect(decode({ ...typed(), keys: Array.from({ length: 65 }, (_, i) => ({ keyId: `k${i}`, keyParts: [] })) })).toThrow("keys has 65 entries, over the limit of 64");
    const bad = typed();
    bad.keys[0].keyParts[0].createdAt = "yesterday";
    expect(decode(bad)).toThrow("keys[0].keyParts[0].createdAt is not an ISO-8601 time");
    expect(decode({ ...typed(), aesPkamPrivateKey: null })).toThrow(AtKeysFileError);
  });
});
