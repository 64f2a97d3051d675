/**
 * The atSDK-compatible suite `rsa2048-aes256ctr` (ATPROTOCOL.md §9): shared and self keys are AES-256 key
 * text, wrapped as RSAES-PKCS1-v1_5 of the UTF-8 of that text; values are AES-256-CTR with PKCS#7 padding
 * and a random 16-byte IV (`ivNonce`); signatures are RSASSA-PKCS1-v1_5 / SHA-256.
 */
import { AES_KEY_BYTES, aesCtrDecrypt, aesCtrEncrypt, generateAesKey, generateIv } from "./aes_ctr.ts";
import { CryptoError } from "./crypto_error.ts";
import { fromBase64, fromUtf8, toBase64, utf8 } from "./encoding.ts";
import { generateRsaKeyPair, rsaDecrypt, rsaEncrypt, rsaSign, rsaVerify } from "./rsa.ts";
import type { CryptoSuite } from "./suite.ts";

const AES_KEY_TEXT_RE = /^[A-Za-z0-9+/]{43}=$/;

function unwrapKey(wrapped: string, privateKey: string): string {
  // rsaDecrypt never reports bad padding (implicit rejection); a wrong key or tampering shows up here as
  // bytes that are not AES key text, with the same error either way.
  const plain = rsaDecrypt(privateKey, fromBase64(wrapped, "wrapped key"));
  let text = "";
  try {
    text = fromUtf8(plain, "unwrapped key");
  } catch {
    // fall through to the single error below
  }
  if (!AES_KEY_TEXT_RE.test(text) || fromBase64(text, "unwrapped key").byteLength !== AES_KEY_BYTES) {
    throw new CryptoError("decrypt_failed", "wrapped key does not decrypt to an AES-256 key (wrong private key or tampered data)");
  }
  return text;
}

/** The atSDK-compatible suite; use it for anything a reference client must read. */
export const atSdkSuite: CryptoSuite = {
  id: "rsa2048-aes256ctr",
  generateEncryptionKeyPair: generateRsaKeyPair,
  generateSigningKeyPair: generateRsaKeyPair,
  generateSymmetricKey: generateAesKey,
  wrapKey: (symmetricKey, recipientPublicKey) => toBase64(rsaEncrypt(recipientPublicKey, utf8(symmetricKey))),
  unwrapKey,
  encrypt(symmetricKey, plaintext) {
    const iv = generateIv();
    return { ciphertext: toBase64(aesCtrEncrypt(symmetricKey, plaintext, iv)), nonce: toBase64(iv) };
  },
  decrypt(symmetricKey, sealed) {
    const ciphertext = fromBase64(sealed.ciphertext, "ciphertext");
    return sealed.nonce === undefined
      ? aesCtrDecrypt(symmetricKey, ciphertext)
      : aesCtrDecrypt(symmetricKey, ciphertext, fromBase64(sealed.nonce, "ivNonce"));
  },
  sign: (privateKey, data) => toBase64(rsaSign(privateKey, data, "sha256")),
  verify(publicKey, data, signature) {
    try {
      return rsaVerify(publicKey, data, fromBase64(signature, "signature"), "sha256");
    } catch {
      return false;
    }
  },
};
