/**
 * Signature verification for the services (PKAM in the atServer, `pol` proofs between servers, the relay's leg
 * check) on WebCrypto rather than node:crypto: loading node:crypto costs every Bun process ~5 MiB RSS, which
 * the atServer's idle budget (40 MiB) and the relay cannot spare. Verification is async as WebCrypto is.
 *
 * Key texts are those of core/crypto: base64 DER SPKI for RSA and Ed25519, hex `04‖X‖Y` for P-256.
 * Importing a key costs more than verifying with it (an RSA SPKI parse), and a service sees the same few keys
 * again and again, so imported keys are cached by key text in a bounded map.
 */
import { fromBase64, fromHex } from "./encoding.ts";

/** The schemes a service verifies: RSASSA-PKCS1-v1_5 with SHA-256/512, ECDSA P-256/SHA-256 (raw r‖s), Ed25519. */
export type SignatureScheme = "rsa-sha256" | "rsa-sha512" | "p256-sha256" | "ed25519";

/** Imported public keys kept (per process); the oldest goes first. An RSA-2048 entry is ~1 KiB. */
export const VERIFY_KEY_CACHE_ENTRIES = 1024;

type ImportAlgorithm = Parameters<typeof crypto.subtle.importKey>[2];
type VerifyAlgorithm = Parameters<typeof crypto.subtle.verify>[0];

const IMPORT: Record<SignatureScheme, { format: "spki" | "raw"; algorithm: ImportAlgorithm; verify: VerifyAlgorithm }> = {
  "rsa-sha256": { format: "spki", algorithm: { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" }, verify: "RSASSA-PKCS1-v1_5" },
  "rsa-sha512": { format: "spki", algorithm: { name: "RSASSA-PKCS1-v1_5", hash: "SHA-512" }, verify: "RSASSA-PKCS1-v1_5" },
  "p256-sha256": { format: "raw", algorithm: { name: "ECDSA", namedCurve: "P-256" }, verify: { name: "ECDSA", hash: "SHA-256" } },
  ed25519: { format: "spki", algorithm: { name: "Ed25519" }, verify: "Ed25519" },
};

/** An uncompressed P-256 point: 0x04, X, Y. */
const P256_POINT_BYTES = 65;

// Promises, so concurrent checks of one new key import it once; null marks a key text that does not import.
const keys = new Map<string, Promise<CryptoKey | null>>();

function importKey(scheme: SignatureScheme, publicKeyText: string): Promise<CryptoKey | null> {
  const id = `${scheme} ${publicKeyText}`;
  const hit = keys.get(id);
  if (hit) return hit;
  const { format, algorithm } = IMPORT[scheme];
  const imported = (async () => {
    try {
      const der = format === "raw" ? fromHex(publicKeyText, "P-256 public key") : fromBase64(publicKeyText, "public key");
      // Only the uncompressed point, as at_chops writes it; some WebCrypto versions would also take compressed.
      if (format === "raw" && (der.byteLength !== P256_POINT_BYTES || der[0] !== 0x04)) return null;
      return await crypto.subtle.importKey(format, der, algorithm, false, ["verify"]);
    } catch {
      return null;
    }
  })();
  if (keys.size >= VERIFY_KEY_CACHE_ENTRIES) keys.delete(keys.keys().next().value!);
  keys.set(id, imported);
  return imported;
}

/**
 * Checks `signature` over `data` with the public key text. Resolves false, never rejects, for a wrong
 * signature, a malformed one, or a key text that is not a key of that scheme.
 * @example if (!(await verifySignature("rsa-sha256", publicKeyBase64, utf8(proof), signature))) refuse();
 */
export async function verifySignature(scheme: SignatureScheme, publicKeyText: string, data: Uint8Array, signature: Uint8Array): Promise<boolean> {
  const key = await importKey(scheme, publicKeyText);
  if (!key) return false;
  try {
    return await crypto.subtle.verify(IMPORT[scheme].verify, key, signature as Uint8Array<ArrayBuffer>, data as Uint8Array<ArrayBuffer>);
  } catch {
    return false;
  }
}
