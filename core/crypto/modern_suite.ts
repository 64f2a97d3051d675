/**
 * The modern suite `x25519-aes256gcm` (ours; reference clients cannot read it):
 * - wrapKey: ECIES-style. A fresh ephemeral X25519 key agrees a secret with the recipient's X25519 key;
 *   HKDF-SHA256 (salt = ephemeral ‖ recipient public key, info = WRAP_INFO) turns it into a one-time key
 *   that seals the 32 raw key bytes with AES-256-GCM. Output: base64(ephemeral 32 ‖ ciphertext 32 ‖ tag 16).
 *   The GCM nonce can be all-zero because every wrap has its own ephemeral key, hence its own one-time key.
 * - encrypt: AES-256-GCM, random 12-byte nonce, ciphertext = base64(ciphertext ‖ 16-byte tag).
 * - sign/verify: Ed25519.
 * Keys are base64 DER (SPKI / PKCS#8) like the RSA ones.
 */
import {
  type KeyObject,
  createCipheriv,
  createDecipheriv,
  createPublicKey,
  diffieHellman,
  generateKeyPairSync,
  hkdfSync,
  randomBytes,
} from "node:crypto";
import { Buffer } from "node:buffer";
import { AES_KEY_BYTES, generateAesKey, parseAesKey } from "./aes_ctr.ts";
import { CryptoError } from "./crypto_error.ts";
import { generateDerKeyPair, parseDerKey } from "./der_key.ts";
import { ed25519Sign, ed25519Verify, generateEd25519KeyPair } from "./ed25519.ts";
import { fromBase64, toBase64 } from "./encoding.ts";
import type { KeyPairText } from "./rsa.ts";
import type { CryptoSuite } from "./suite.ts";

/** X25519 public key / shared secret length. */
const X25519_BYTES = 32;
/** AES-GCM nonce and tag lengths. */
const GCM_NONCE_BYTES = 12;
const GCM_TAG_BYTES = 16;
/** HKDF info string; the version lets a later change of construction coexist under a new suite id. */
const WRAP_INFO = "inlay x25519-aes256gcm key wrap v1";
const WRAPPED_BYTES = X25519_BYTES + AES_KEY_BYTES + GCM_TAG_BYTES;

const generateX25519KeyPair = (): Promise<KeyPairText> => generateDerKeyPair("x25519");
const parseX25519 = (text: string, kind: "public" | "private"): KeyObject => parseDerKey(text, "x25519", kind);

/** Raw 32-byte public key: the SPKI DER of an X25519 key ends with it. */
function rawPublic(key: KeyObject): Uint8Array {
  return new Uint8Array(key.export({ format: "der", type: "spki" }).subarray(-X25519_BYTES));
}

function publicFromRaw(raw: Uint8Array): KeyObject {
  return createPublicKey({ key: { kty: "OKP", crv: "X25519", x: Buffer.from(raw).toString("base64url") }, format: "jwk" });
}

function oneTimeKey(privateKey: KeyObject, peer: KeyObject, ephemeralRaw: Uint8Array, recipientRaw: Uint8Array): Uint8Array {
  let shared: Uint8Array;
  try {
    shared = new Uint8Array(diffieHellman({ privateKey, publicKey: peer }));
  } catch {
    throw new CryptoError("decrypt_failed", "X25519 key agreement failed (invalid public key)");
  }
  // An all-zero secret means a low-order public key: refuse it rather than derive a guessable key.
  if (shared.every((b) => b === 0)) throw new CryptoError("decrypt_failed", "X25519 key agreement produced a low-order result");
  const salt = new Uint8Array(2 * X25519_BYTES);
  salt.set(ephemeralRaw, 0);
  salt.set(recipientRaw, X25519_BYTES);
  return new Uint8Array(hkdfSync("sha256", shared, salt, WRAP_INFO, AES_KEY_BYTES));
}

function gcmSeal(key: Uint8Array, nonce: Uint8Array, plaintext: Uint8Array): Uint8Array {
  const c = createCipheriv("aes-256-gcm", key, nonce);
  const out = Buffer.concat([c.update(plaintext), c.final(), c.getAuthTag()]);
  return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
}

function gcmOpen(key: Uint8Array, nonce: Uint8Array, sealed: Uint8Array): Uint8Array {
  if (sealed.byteLength < GCM_TAG_BYTES) throw new CryptoError("decrypt_failed", "AES-GCM ciphertext is shorter than its tag");
  try {
    const d = createDecipheriv("aes-256-gcm", key, nonce);
    d.setAuthTag(sealed.subarray(sealed.byteLength - GCM_TAG_BYTES));
    const out = Buffer.concat([d.update(sealed.subarray(0, sealed.byteLength - GCM_TAG_BYTES)), d.final()]);
    return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
  } catch {
    throw new CryptoError("decrypt_failed", "AES-GCM authentication failed (wrong key or tampered data)");
  }
}

const ZERO_NONCE = new Uint8Array(GCM_NONCE_BYTES);

/** The X25519 + HKDF-SHA256 + AES-256-GCM suite with Ed25519 signatures. */
export const modernSuite: CryptoSuite = {
  id: "x25519-aes256gcm",
  generateEncryptionKeyPair: generateX25519KeyPair,
  generateSigningKeyPair: generateEd25519KeyPair,
  generateSymmetricKey: generateAesKey,
  wrapKey(symmetricKey, recipientPublicKey) {
    const recipient = parseX25519(recipientPublicKey, "public");
    const ephemeral = generateKeyPairSync("x25519");
    const ephemeralRaw = rawPublic(ephemeral.publicKey);
    const kek = oneTimeKey(ephemeral.privateKey, recipient, ephemeralRaw, rawPublic(recipient));
    const sealed = gcmSeal(kek, ZERO_NONCE, parseAesKey(symmetricKey));
    const out = new Uint8Array(WRAPPED_BYTES);
    out.set(ephemeralRaw, 0);
    out.set(sealed, X25519_BYTES);
    return toBase64(out);
  },
  unwrapKey(wrapped, privateKey) {
    const bytes = fromBase64(wrapped, "wrapped key");
    if (bytes.byteLength !== WRAPPED_BYTES) throw new CryptoError("decrypt_failed", `wrapped key must be ${WRAPPED_BYTES} bytes`);
    const own = parseX25519(privateKey, "private");
    const ephemeralRaw = bytes.subarray(0, X25519_BYTES);
    let ephemeral: KeyObject;
    try {
      ephemeral = publicFromRaw(ephemeralRaw);
    } catch {
      throw new CryptoError("decrypt_failed", "wrapped key carries an invalid ephemeral public key");
    }
    const kek = oneTimeKey(own, ephemeral, ephemeralRaw, rawPublic(createPublicKey(own)));
    return toBase64(gcmOpen(kek, ZERO_NONCE, bytes.subarray(X25519_BYTES)));
  },
  encrypt(symmetricKey, plaintext) {
    const nonce = new Uint8Array(randomBytes(GCM_NONCE_BYTES));
    return { ciphertext: toBase64(gcmSeal(parseAesKey(symmetricKey), nonce, plaintext)), nonce: toBase64(nonce) };
  },
  decrypt(symmetricKey, sealed) {
    if (sealed.nonce === undefined) throw new CryptoError("decrypt_failed", "x25519-aes256gcm ciphertext needs a nonce");
    const nonce = fromBase64(sealed.nonce, "nonce");
    if (nonce.byteLength !== GCM_NONCE_BYTES) throw new CryptoError("decrypt_failed", `nonce must be ${GCM_NONCE_BYTES} bytes`);
    return gcmOpen(parseAesKey(symmetricKey), nonce, fromBase64(sealed.ciphertext, "ciphertext"));
  },
  sign: (privateKey, data) => toBase64(ed25519Sign(privateKey, data)),
  verify(publicKey, data, signature) {
    try {
      return ed25519Verify(publicKey, data, fromBase64(signature, "signature"));
    } catch {
      return false;
    }
  },
};
