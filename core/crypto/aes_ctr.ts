/**
 * AES-256-CTR as the atSDKs do it (Dart `encrypt` package defaults: PointyCastle "SIC" mode with PKCS#7
 * padding). The 16-byte IV is the initial counter block, incremented as one 128-bit big-endian number — the
 * same as OpenSSL's aes-256-ctr — and the plaintext is PKCS#7-padded first, so a ciphertext is always a
 * non-zero multiple of 16 bytes. CTR has no integrity: tampering is only caught when the padding breaks.
 */
import { Buffer } from "node:buffer";
import { type Cipheriv, type Decipheriv, createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import { CryptoError } from "./crypto_error.ts";
import { fromBase64, toBase64 } from "./encoding.ts";

/** AES block size and the IV (counter block) length. */
export const AES_BLOCK_BYTES = 16;
/** AES-256 key length. */
export const AES_KEY_BYTES = 32;
/** The legacy IV used when a record has no `ivNonce` (and always for `.atKeys` fields and enrollment keys). */
export const ZERO_IV: Uint8Array = new Uint8Array(AES_BLOCK_BYTES);

/** A fresh AES-256 key in its text form: base64 of 32 random bytes (44 characters). */
export function generateAesKey(): string {
  return toBase64(randomBytes(AES_KEY_BYTES));
}

/** A fresh 16-byte IV for the `ivNonce` metadata field. */
export function generateIv(): Uint8Array {
  return new Uint8Array(randomBytes(AES_BLOCK_BYTES));
}

/** Parses AES key text (base64 of exactly 32 bytes). */
export function parseAesKey(keyText: string): Uint8Array {
  const key = fromBase64(keyText, "AES key");
  if (key.byteLength !== AES_KEY_BYTES) {
    throw new CryptoError("bad_key", `AES key must be ${AES_KEY_BYTES} bytes, got ${key.byteLength}`);
  }
  return key;
}

function checkIv(iv: Uint8Array): void {
  if (iv.byteLength !== AES_BLOCK_BYTES) {
    throw new CryptoError("bad_encoding", `IV must be ${AES_BLOCK_BYTES} bytes, got ${iv.byteLength}`);
  }
}

/** PKCS#7: always 1..16 bytes of value n, so the unpadder can tell padding from data. */
function pad(data: Uint8Array): Uint8Array {
  const n = AES_BLOCK_BYTES - (data.byteLength % AES_BLOCK_BYTES);
  const out = new Uint8Array(data.byteLength + n);
  out.set(data, 0);
  out.fill(n, data.byteLength);
  return out;
}

function unpad(data: Uint8Array): Uint8Array {
  const n = data[data.byteLength - 1] ?? 0;
  let bad = n === 0 || n > AES_BLOCK_BYTES ? 1 : 0;
  // Every padding byte is checked, yet a wrong key still passes about 1 time in 256 (a last byte of 0x01):
  // CTR has no MAC, so callers that must detect a wrong key check the shape of what they decrypted.
  for (let i = 1; i <= AES_BLOCK_BYTES && i <= data.byteLength; i++) {
    if (i <= n && data[data.byteLength - i] !== n) bad = 1;
  }
  if (bad) throw new CryptoError("decrypt_failed", "AES-CTR decryption failed: bad padding (wrong key or tampered data)");
  return data.subarray(0, data.byteLength - n);
}

function run(c: Cipheriv | Decipheriv, data: Uint8Array): Uint8Array {
  const out = Buffer.concat([c.update(data), c.final()]);
  return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
}

/**
 * Encrypts `plaintext` with AES key text `keyText` and a 16-byte IV (default: the legacy zero IV).
 * @example const ct = aesCtrEncrypt(selfKey, utf8("hi"), iv); // ct.byteLength === 16
 */
export function aesCtrEncrypt(keyText: string, plaintext: Uint8Array, iv: Uint8Array = ZERO_IV): Uint8Array {
  checkIv(iv);
  const cipher = createCipheriv("aes-256-ctr", parseAesKey(keyText), iv);
  return run(cipher, pad(plaintext));
}

/** Reverses aesCtrEncrypt; throws CryptoError("decrypt_failed") when the length or padding is wrong. */
export function aesCtrDecrypt(keyText: string, ciphertext: Uint8Array, iv: Uint8Array = ZERO_IV): Uint8Array {
  checkIv(iv);
  if (ciphertext.byteLength === 0 || ciphertext.byteLength % AES_BLOCK_BYTES !== 0) {
    throw new CryptoError("decrypt_failed", `AES-CTR ciphertext must be a non-zero multiple of ${AES_BLOCK_BYTES} bytes`);
  }
  const decipher = createDecipheriv("aes-256-ctr", parseAesKey(keyText), iv);
  return unpad(run(decipher, ciphertext));
}
