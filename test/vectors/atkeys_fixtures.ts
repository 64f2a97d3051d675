/**
 * Builds the .atKeys fixtures of the other reference layouts from the keys of test/fixtures/atkeys/@alice_key.atKeys
 * (at_onboarding_cli's layout, written by generate.ts): `bun test/vectors/atkeys_fixtures.ts`. Each file is
 * assembled field by field as the reference writes it, not with core/crypto/atkeys.ts, so the tests that read
 * them check our codec against the layouts rather than against itself:
 *
 * - legacy_cli_newer.atKeys: newer at_onboarding_cli (aesPkamPublicKey first, aesPkamPrivateKey last).
 * - typed_3.3.atKeys: at_auth 3.3's FileAtKeysIo after flushing that legacy file with one typed key group.
 * - protected_legacy.atKeys: @alice_key.atKeys in at_auth 3.3's envelope, passphrase FIXTURE_PASSPHRASE. Its
 *   AES key is the Argon2id output at_chops' own test captured for that passphrase, not one we derived.
 * - protected_v1.atKeys: typed_3.3.atKeys in at_auth 4's salted v1 envelope, same passphrase.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { argon2id } from "@noble/hashes/argon2.js";
import { aesCtrEncrypt } from "../../core/crypto/aes_ctr.ts";
import { toBase64, utf8 } from "../../core/crypto/encoding.ts";

/** The passphrase of the protected fixtures. */
export const FIXTURE_PASSPHRASE = "correct horse battery staple";
/** at_chops' captured Argon2id (m=10000, t=2, p=2, salt = the passphrase) of FIXTURE_PASSPHRASE. */
export const REFERENCE_LEGACY_KEY = "9XTo7JZhehnGb89UDi1oMIzUHDFcfVP3meBYdNh4sj0=";

const dir = fileURLToPath(new URL("../fixtures/atkeys/", import.meta.url));
const compact = (fields: [string, unknown][]) => `{${fields.map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v)}`).join(",")}}`;

if (import.meta.main) {
  const legacyText = readFileSync(join(dir, "@alice_key.atKeys"), "utf8");
  const legacy = JSON.parse(legacyText) as Record<string, string>;
  const field = (name: string): [string, string] => [name, legacy[name]!];

  const newer = compact(["aesPkamPublicKey", "aesEncryptPublicKey", "aesEncryptPrivateKey", "selfEncryptionKey", "@alice", "apkamSymmetricKey", "enrollmentId", "aesPkamPrivateKey"].map(field));
  writeFileSync(join(dir, "legacy_cli_newer.atKeys"), newer);

  const group = {
    keyId: "sign:ed25519:1",
    enrollmentId: legacy.enrollmentId,
    keyParts: [
      { keyPartType: "privateSigning", keyAlgorithmType: "ed25519", createdAt: "2026-08-14T00:00:00.000Z", status: "active", bytes: toBase64(new Uint8Array(32).fill(7)) },
      { keyPartType: "publicVerification", keyAlgorithmType: "ed25519", operations: ["verify"], createdAt: "2026-08-14T00:00:00.000Z", status: "active", bytes: toBase64(new Uint8Array(32).fill(9)) },
    ],
  };
  const typed = compact([
    ...["aesPkamPublicKey", "aesPkamPrivateKey", "aesEncryptPublicKey", "aesEncryptPrivateKey", "selfEncryptionKey", "apkamSymmetricKey", "enrollmentId", "@alice"].map(field),
    ["version", 1],
    ["atsign", "@alice"],
    ["keys", [group]],
  ]);
  writeFileSync(join(dir, "typed_3.3.atKeys"), typed);

  const iv = new Uint8Array(16).map((_, i) => i + 1);
  const legacyContent = toBase64(aesCtrEncrypt(REFERENCE_LEGACY_KEY, utf8(legacyText), iv));
  writeFileSync(join(dir, "protected_legacy.atKeys"), compact([["content", legacyContent], ["iv", toBase64(iv)], ["hashingAlgoType", "argon2id"]]));

  const salt = new Uint8Array(16).map((_, i) => 0xa0 + i);
  const params = { memory: 19456, iterations: 2, parallelism: 1 };
  const key = toBase64(argon2id(utf8(FIXTURE_PASSPHRASE), salt, { m: params.memory, t: params.iterations, p: params.parallelism, dkLen: 32 }));
  const v1Content = toBase64(aesCtrEncrypt(key, utf8(typed), iv));
  writeFileSync(join(dir, "protected_v1.atKeys"), compact([["v", 1], ["content", v1Content], ["iv", toBase64(iv)], ["hashingAlgoType", "argon2id"], ["salt", toBase64(salt)], ["kdfParams", params]]));
}
