/**
 * Base64 the way macaroons travel: minted URL-safe without padding (what go-macaroon and libmacaroons emit
 * in JSON), read in any of the four standard/URL-safe × padded/unpadded forms, as go-macaroon's
 * Base64Decode does. Mixing both alphabets in one string is refused, as Go does.
 */
import { MacaroonError } from "./macaroon_error.ts";

/** URL-safe base64 without padding. */
export function encodeBase64Url(bytes: Uint8Array): string {
  return bytes.toBase64({ alphabet: "base64url", omitPadding: true });
}

/** Standard base64 with padding (what L402 headers carry). */
export function encodeBase64Std(bytes: Uint8Array): string {
  return bytes.toBase64();
}

/**
 * Decodes standard or URL-safe base64, padded or not. Throws MacaroonError("bad_encoding") naming `what`.
 * @example decodeBase64Tolerant("AgETaHR0cDovL2V4YW1wbGUub3JnLw", "macaroon")
 */
export function decodeBase64Tolerant(text: string, what: string): Uint8Array {
  const std = /[+/]/.test(text);
  if (std && /[-_]/.test(text)) throw new MacaroonError("bad_encoding", `Cannot decode ${what}: mixes standard and URL-safe base64`);
  if (/\s/.test(text)) throw new MacaroonError("bad_encoding", `Cannot decode ${what}: contains white space`);
  try {
    return Uint8Array.fromBase64(text, { alphabet: std ? "base64" : "base64url", lastChunkHandling: "loose" });
  } catch {
    throw new MacaroonError("bad_encoding", `Cannot decode ${what}: not valid base64`);
  }
}
