/** The suite registry: look a suite up by id, or by the kind of public key a peer published. */
import { createPublicKey } from "node:crypto";
import { Buffer } from "node:buffer";
import { atSdkSuite } from "./atsdk_suite.ts";
import { CryptoError } from "./crypto_error.ts";
import { fromBase64 } from "./encoding.ts";
import { modernSuite } from "./modern_suite.ts";
import type { CryptoSuite, SuiteId } from "./suite.ts";

/** Every implemented suite by id. */
export const SUITES: Readonly<Record<SuiteId, CryptoSuite>> = {
  "rsa2048-aes256ctr": atSdkSuite,
  "x25519-aes256gcm": modernSuite,
};

/** The suite for data reference clients must read. */
export const DEFAULT_SUITE_ID: SuiteId = "rsa2048-aes256ctr";

/** Returns the suite with `id`; CryptoError("unsupported") for an unknown id (e.g. from a newer peer). */
export function getSuite(id: string): CryptoSuite {
  const suite = (SUITES as Record<string, CryptoSuite>)[id];
  if (!suite) throw new CryptoError("unsupported", `unknown crypto suite "${id}"`);
  return suite;
}

/** Picks the suite that can wrap keys to `publicKeyText` (base64 SPKI): RSA → atSDK suite, X25519 → modern. */
export function suiteForPublicKey(publicKeyText: string): CryptoSuite {
  let type: string | undefined;
  try {
    type = createPublicKey({ key: Buffer.from(fromBase64(publicKeyText, "public key")), format: "der", type: "spki" }).asymmetricKeyType;
  } catch {
    throw new CryptoError("bad_key", "public key is not base64 DER SubjectPublicKeyInfo");
  }
  if (type === "rsa") return atSdkSuite;
  if (type === "x25519") return modernSuite;
  throw new CryptoError("unsupported", `no crypto suite for ${type} public keys`);
}
