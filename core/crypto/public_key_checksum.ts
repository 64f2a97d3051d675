/** The `pubKeyCS` public-key checksum of shared values (client side, so node:crypto is fine here). */
import { createHash } from "node:crypto";

/** `pubKeyCS` metadata: lowercase hex MD5 of the recipient's base64 public key text (as text, not DER). */
export function publicKeyChecksum(publicKeyText: string): string {
  return createHash("md5").update(publicKeyText, "utf8").digest("hex");
}
