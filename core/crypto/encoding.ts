/**
 * Strict text encodings. Buffer's base64 decoder silently skips junk, which would let a corrupted key or
 * ciphertext decode to something else; these check the shape first and name what was being decoded.
 */
import { Buffer } from "node:buffer";
import { CryptoError } from "./crypto_error.ts";

const HEX_RE = /^[0-9a-fA-F]*$/;

/** Standard padded base64 of `bytes`. */
export function toBase64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("base64");
}

/** Decodes standard padded base64; throws CryptoError("bad_encoding") naming `what` otherwise. */
export function fromBase64(text: string, what: string): Uint8Array<ArrayBuffer> {
  const bytes = Buffer.from(text, "base64");
  // Canonical round trip instead of a regex: linear time on megabyte values, and it also refuses junk,
  // missing padding and non-zero trailing bits.
  if (bytes.toString("base64") !== text) throw new CryptoError("bad_encoding", `${what} is not valid base64`);
  return new Uint8Array(bytes); // a copy: small Buffers live in a shared pool
}

/** Lowercase hex of `bytes`. */
export function toHex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("hex");
}

/** Decodes hex (either case); throws CryptoError("bad_encoding") naming `what` otherwise. */
export function fromHex(text: string, what: string): Uint8Array<ArrayBuffer> {
  if (text.length % 2 !== 0 || !HEX_RE.test(text)) throw new CryptoError("bad_encoding", `${what} is not valid hex`);
  return new Uint8Array(Buffer.from(text, "hex"));
}

const encoder = new TextEncoder();
const strictDecoder = new TextDecoder("utf-8", { fatal: true });

/** UTF-8 bytes of `text`. */
export function utf8(text: string): Uint8Array<ArrayBuffer> {
  return encoder.encode(text);
}

/** Decodes UTF-8, refusing malformed input (a wrong key yields garbage, which must not pass as text). */
export function fromUtf8(bytes: Uint8Array, what: string): string {
  try {
    return strictDecoder.decode(bytes);
  } catch {
    throw new CryptoError("decrypt_failed", `${what} is not valid UTF-8`);
  }
}
