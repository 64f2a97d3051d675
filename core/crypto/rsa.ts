/**
 * RSA-2048 the way the atSDKs use it: keys as base64 DER (public SubjectPublicKeyInfo, private PKCS#8),
 * RSAES-PKCS1-v1_5 for wrapping AES key text, RSASSA-PKCS1-v1_5 with SHA-256 or SHA-512 for signatures.
 *
 * Decryption and the Marvin attack: Node ≥ 20.11 and Bun refuse RSA_PKCS1_PADDING in privateDecrypt,
 * because a caller that reacts differently to good and bad padding is a Bleichenbacher oracle. We need the
 * padding for interop, so we decrypt with RSA_NO_PADDING (the modular exponentiation stays in
 * OpenSSL/BoringSSL, blinded) and strip the padding ourselves with branch-free masks, using *implicit
 * rejection*: when the padding is bad we return a pseudo-random message derived from the private key and
 * the ciphertext instead of throwing. Callers then fail later, the same way as for any wrong content, so
 * padding validity is never observable. Works the same under Bun, Node and Deno.
 */
import {
  type KeyObject,
  constants,
  createHash,
  createHmac,
  createPrivateKey,
  createPublicKey,
  privateDecrypt,
  publicEncrypt,
  sign,
  verify,
} from "node:crypto";
import { Buffer } from "node:buffer";
import { CryptoError } from "./crypto_error.ts";
import { fromBase64 } from "./encoding.ts";
import { RSA_MODULUS_BITS } from "./rsa_webcrypto.ts";

/** Key generation lives in rsa_webcrypto.ts (WebCrypto, for the services); re-exported for the client. */
export { RSA_MODULUS_BITS, generateRsaKeyPair, type KeyPairText } from "./rsa_webcrypto.ts";

/** PKCS#1 v1.5 overhead: 0x00 0x02, at least 8 non-zero padding bytes, 0x00. */
const PKCS1_MIN_PADDING_BYTES = 11;

/** Hash used by an RSA signature. */
export type RsaHash = "sha256" | "sha512";

/** Parses base64 SPKI text into an RSA public KeyObject. */
export function parseRsaPublicKey(text: string): KeyObject {
  let key: KeyObject;
  try {
    key = createPublicKey({ key: Buffer.from(fromBase64(text, "RSA public key")), format: "der", type: "spki" });
  } catch (e) {
    if (e instanceof CryptoError) throw e;
    throw new CryptoError("bad_key", "RSA public key is not DER SubjectPublicKeyInfo");
  }
  if (key.asymmetricKeyType !== "rsa") throw new CryptoError("bad_key", `expected an RSA public key, got ${key.asymmetricKeyType}`);
  return key;
}

/** Parses base64 PKCS#8 text into an RSA private KeyObject. */
export function parseRsaPrivateKey(text: string): KeyObject {
  let key: KeyObject;
  try {
    key = createPrivateKey({ key: Buffer.from(fromBase64(text, "RSA private key")), format: "der", type: "pkcs8" });
  } catch (e) {
    if (e instanceof CryptoError) throw e;
    throw new CryptoError("bad_key", "RSA private key is not DER PKCS#8");
  }
  if (key.asymmetricKeyType !== "rsa") throw new CryptoError("bad_key", `expected an RSA private key, got ${key.asymmetricKeyType}`);
  return key;
}

function modulusBytes(key: KeyObject): number {
  return Math.ceil((key.asymmetricKeyDetails?.modulusLength ?? RSA_MODULUS_BITS) / 8);
}

/** RSAES-PKCS1-v1_5 encryption of `data` (at most modulus bytes − 11) to the public key text. */
export function rsaEncrypt(publicKeyText: string, data: Uint8Array): Uint8Array {
  const key = parseRsaPublicKey(publicKeyText);
  if (data.byteLength > modulusBytes(key) - PKCS1_MIN_PADDING_BYTES) {
    throw new CryptoError("bad_encoding", `RSA plaintext too long: ${data.byteLength} bytes`);
  }
  return new Uint8Array(publicEncrypt({ key, padding: constants.RSA_PKCS1_PADDING }, data));
}

/**
 * RSAES-PKCS1-v1_5 decryption with implicit rejection (see the module comment): never throws for bad
 * padding; a ciphertext that was not made for this key yields unrelated bytes, the same on every call.
 * Throws CryptoError only for malformed input (wrong length, bad key text).
 */
export function rsaDecrypt(privateKeyText: string, ciphertext: Uint8Array): Uint8Array<ArrayBuffer> {
  const key = parseRsaPrivateKey(privateKeyText);
  const k = modulusBytes(key);
  if (ciphertext.byteLength !== k) {
    throw new CryptoError("decrypt_failed", `RSA ciphertext must be ${k} bytes, got ${ciphertext.byteLength}`);
  }
  let em: Uint8Array;
  try {
    em = new Uint8Array(privateDecrypt({ key, padding: constants.RSA_NO_PADDING }, ciphertext));
  } catch {
    // Only a ciphertext ≥ the modulus gets here; that is a property of public data, not of the padding.
    throw new CryptoError("decrypt_failed", "RSA ciphertext is out of range for this key");
  }
  return unpadPkcs1(em, k, syntheticMessage(key, ciphertext, k));
}

/** Branch-free PKCS#1 v1.5 type-2 unpadding that falls back to `synthetic` when the padding is bad. */
function unpadPkcs1(em: Uint8Array, k: number, synthetic: { bytes: Uint8Array; length: number }): Uint8Array<ArrayBuffer> {
  // good is all-ones (0xff…) when valid, 0 otherwise; computed without data-dependent branches.
  let good = ctIsZero((em[0] ?? 1) | ((em[1] ?? 0) ^ 2));
  let lookingForZero = 0xff;
  let zeroIndex = 0;
  for (let i = 2; i < k; i++) {
    const isZero = ctIsZero(em[i] ?? 0);
    zeroIndex |= i & isZero & lookingForZero & 0xffff;
    lookingForZero &= ~isZero & 0xff;
  }
  good &= ~lookingForZero & 0xff; // a separator was found
  good &= ctGreaterOrEqual(zeroIndex, 2 + 8); // at least 8 padding bytes
  const out = new Uint8Array(k);
  for (let i = 0; i < k; i++) out[i] = ((em[i] ?? 0) & good) | ((synthetic.bytes[i] ?? 0) & ~good & 0xff);
  const start = ((zeroIndex + 1) & (good * 0x101)) | ((k - synthetic.length) & (~(good * 0x101) & 0xffff));
  return out.subarray(start);
}

/** 0xff when x (a byte) is zero, else 0. */
function ctIsZero(x: number): number {
  return ((((x & 0xff) - 1) >>> 8) & 1) * 0xff;
}

/** 0xff when a ≥ b (both < 2^16), else 0. */
function ctGreaterOrEqual(a: number, b: number): number {
  return (((((a - b) >>> 31) & 1) ^ 1) * 0xff) & 0xff;
}

/**
 * The implicit-rejection message: bytes and a length in [0, k − 11], both a PRF (HMAC-SHA256 keyed with a
 * hash of the private key) of the ciphertext, so repeated queries see one consistent wrong answer.
 */
function syntheticMessage(key: KeyObject, ciphertext: Uint8Array, k: number): { bytes: Uint8Array; length: number } {
  const kdk = createHash("sha256").update(key.export({ format: "der", type: "pkcs8" })).digest();
  const stream = new Uint8Array(k + 32);
  for (let block = 0, off = 0; off < stream.byteLength; block++, off += 32) {
    const h = createHmac("sha256", kdk).update(Uint8Array.of(block >>> 8, block & 0xff)).update(ciphertext).digest();
    stream.set(h.subarray(0, Math.min(32, stream.byteLength - off)), off);
  }
  const length = (((stream[k] ?? 0) << 8) | (stream[k + 1] ?? 0)) % (k - PKCS1_MIN_PADDING_BYTES + 1);
  return { bytes: stream.subarray(0, k), length };
}

/** RSASSA-PKCS1-v1_5 signature of `data` (SHA-256 by default). */
export function rsaSign(privateKeyText: string, data: Uint8Array, hash: RsaHash = "sha256"): Uint8Array<ArrayBuffer> {
  const key = parseRsaPrivateKey(privateKeyText);
  return new Uint8Array(sign(hash, data, { key, padding: constants.RSA_PKCS1_PADDING }));
}

/** Verifies an RSASSA-PKCS1-v1_5 signature; false (never a throw) for a bad signature or key text. */
export function rsaVerify(publicKeyText: string, data: Uint8Array, signature: Uint8Array, hash: RsaHash = "sha256"): boolean {
  try {
    const key = parseRsaPublicKey(publicKeyText);
    return verify(hash, data, { key, padding: constants.RSA_PKCS1_PADDING }, signature);
  } catch {
    return false;
  }
}
