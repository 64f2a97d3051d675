/**
 * Crypto suites: everything the SDK does with keys (wrap a shared key for a recipient, encrypt values,
 * sign public data) behind one interface, selected by id, so callers never name an algorithm. The atSDK
 * suite is the interop default; a modern or post-quantum suite is one more entry in SUITES.
 */
import type { KeyPairText } from "./rsa.ts";

/** Ids of the implemented suites. */
export type SuiteId = "rsa2048-aes256ctr" | "x25519-aes256gcm";

/**
 * A ciphertext with the nonce it needs. Both are base64 text; `nonce` is what travels as the `ivNonce`
 * metadata field. For the atSDK suite an absent nonce means the legacy all-zero IV.
 */
export interface Sealed {
  ciphertext: string;
  nonce?: string;
}

/** The operations every suite provides. Keys are text (base64 or hex) exactly as they are stored. */
export interface CryptoSuite {
  readonly id: SuiteId;
  /** A key pair that others wrap shared keys to (the atSDK's "encryption key pair"). */
  generateEncryptionKeyPair(): Promise<KeyPairText>;
  /** A key pair for signing public data (the atSDK signs with its encryption key pair). */
  generateSigningKeyPair(): Promise<KeyPairText>;
  /** A fresh symmetric key (self key or shared key) in text form. */
  generateSymmetricKey(): string;
  /** Encrypts a symmetric key so only the holder of the matching private key can read it. */
  wrapKey(symmetricKey: string, recipientPublicKey: string): string;
  /** Reverses wrapKey; throws CryptoError("decrypt_failed") for a wrong key or tampered input. */
  unwrapKey(wrapped: string, privateKey: string): string;
  /** Encrypts a value with a symmetric key and a fresh nonce. */
  encrypt(symmetricKey: string, plaintext: Uint8Array): Sealed;
  /** Reverses encrypt; throws CryptoError("decrypt_failed") when it cannot. */
  decrypt(symmetricKey: string, sealed: Sealed): Uint8Array;
  /** Signs data; returns base64 text. */
  sign(privateKey: string, data: Uint8Array): string;
  /** Verifies a base64 signature; false for anything wrong or malformed. */
  verify(publicKey: string, data: Uint8Array, signature: string): boolean;
}
