/**
 * The CRAM response digest of the atProtocol, on WebCrypto: the atServer checks it and must not load node:crypto
 * for it (~5 MiB RSS per process). The `pubKeyCS` checksum is MD5, which WebCrypto lacks: public_key_checksum.ts.
 */
import { toHex, utf8 } from "./encoding.ts";

/**
 * CRAM response: lowercase hex SHA-512 of UTF-8(secret + challenge), challenge as sent after `data:`.
 * @example `cram:${await cramDigest(secret, "_6d1f…@alice:0c2e…")}`
 */
export async function cramDigest(secret: string, challenge: string): Promise<string> {
  return toHex(new Uint8Array(await crypto.subtle.digest("SHA-512", utf8(secret + challenge))));
}
