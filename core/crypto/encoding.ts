/**
 * Strict text encodings. Buffer's base64 decoder silently skips junk, which would let a corrupted key or
 * ciphertext decode to something else; these check the shape first and name what was being decoded.
 */
import { Buffer } from "node:buffer";
import { CryptoError } from "./crypto_error.ts";

const BASE64_RE = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const HEX_RE = /^(?:[0-9a-fA-F]{2})*$/;

/** Standard padded base64 of `bytes`. */
export function toBase64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("base64");
}

/** Decodes standard padded base64; throws CryptoError("bad_encoding") naming `what` otherwise. */
export function fromBase64(text: string, what: string): Uint8Array<ArrayBuffer> {
  if (!BASE64_RE.test(text)) throw new CryptoError("bad_encoding", `${what} is not valid base64`);
  return new Uint8Array(Buffer.from(text, "base64"));
}

/** Lowercase hex of `bytes`. */
export function toHex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("hex");
}

/** Decodes hex (either case); throws CryptoError("bad_encoding") naming `what` otherwise. */
export function fromHex(text: string, what: string): Uint8Array<ArrayBuffer> {
  if (!HEX_RE.test(text)) throw new CryptoError("bad_encoding", `${what} is not valid hex`);
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
