/**
 * The macaroon hash chain as libmacaroons and go-macaroon define it (private to core/macaroon):
 * - root keys are first "personalised": key = HMAC-SHA256(key: "macaroons-key-generator", data: rootKey);
 * - a first-party caveat moves the signature to HMAC(sig, caveatId);
 * - a third-party caveat moves it to HMAC(sig, HMAC(sig, vid) || HMAC(sig, cid));
 * - a discharge is bound to its root with the same two-input hash under an all-zero key;
 * - a third-party caveat's key travels in `vid` as nonce(24) || secretbox(key: sig, nonce, derivedKey).
 */
import { xsalsa20poly1305 } from "@noble/ciphers/salsa.js";
import { hmac } from "@noble/hashes/hmac.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { randomBytes } from "node:crypto";
import { constantTimeEqual } from "../crypto/constant_time_equal.ts";

/** Length of every chain value, key and signature (SHA-256). */
export const HASH_BYTES = 32;
const NONCE_BYTES = 24;
const BOX_TAG_BYTES = 16;
const KEY_GENERATOR = new TextEncoder().encode("macaroons-key-generator");
const ZERO_KEY = new Uint8Array(HASH_BYTES);

/** HMAC-SHA256(key, data). */
export function keyedHash(key: Uint8Array, data: Uint8Array): Uint8Array {
  return hmac(sha256, key, data);
}

/** The two-input hash used for third-party caveats and discharge binding. */
export function keyedHash2(key: Uint8Array, d1: Uint8Array, d2: Uint8Array): Uint8Array {
  const both = new Uint8Array(2 * HASH_BYTES);
  both.set(keyedHash(key, d1), 0);
  both.set(keyedHash(key, d2), HASH_BYTES);
  return keyedHash(key, both);
}

/** The "macaroons-key-generator" step applied to every root key before use. */
export function deriveKey(rootKey: Uint8Array): Uint8Array {
  return keyedHash(KEY_GENERATOR, rootKey);
}

/** Binds a discharge signature to its root signature (unchanged when they are equal, as go-macaroon). */
export function bindForRequest(rootSig: Uint8Array, dischargeSig: Uint8Array): Uint8Array {
  if (constantTimeEqual(rootSig, dischargeSig)) return dischargeSig;
  return keyedHash2(ZERO_KEY, rootSig, dischargeSig);
}

/** Hides a third-party caveat key under the current signature: nonce(24) || secretbox. */
export function sealKey(sig: Uint8Array, derivedKey: Uint8Array): Uint8Array {
  const nonce = new Uint8Array(randomBytes(NONCE_BYTES));
  const box = xsalsa20poly1305(sig, nonce).encrypt(derivedKey);
  const out = new Uint8Array(NONCE_BYTES + box.length);
  out.set(nonce, 0);
  out.set(box, NONCE_BYTES);
  return out;
}

/** Returns the caveat key hidden in `vid`, or undefined when it does not open under `sig`. */
export function openKey(sig: Uint8Array, vid: Uint8Array): Uint8Array | undefined {
  if (vid.length < NONCE_BYTES + BOX_TAG_BYTES) return undefined;
  try {
    const key = xsalsa20poly1305(sig, vid.subarray(0, NONCE_BYTES)).decrypt(vid.subarray(NONCE_BYTES));
    return key.length === HASH_BYTES ? key : undefined;
  } catch {
    return undefined;
  }
}
