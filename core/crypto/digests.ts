/** The two hex digests of the atProtocol: the CRAM response and the `pubKeyCS` public-key checksum. */
import { createHash } from "node:crypto";

/**
 * CRAM response: lowercase hex SHA-512 of UTF-8(secret + challenge), challenge as sent after `data:`.
 * @example `cram:${cramDigest(secret, "_6d1f…@alice:0c2e…")}`
 */
export function cramDigest(secret: string, challenge: string): string {
  return createHash("sha512").update(secret + challenge, "utf8").digest("hex");
}

/** `pubKeyCS` metadata: lowercase hex MD5 of the recipient's base64 public key text (as text, not DER). */
export function publicKeyChecksum(publicKeyText: string): string {
  return createHash("md5").update(publicKeyText, "utf8").digest("hex");
}
