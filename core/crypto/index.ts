/**
 * Crypto for Inlay: the atSDK-compatible primitives, PKAM, crypto suites and the .atKeys file. Import from here,
 * not from the individual files — except in the services, which import the WebCrypto files directly so they never
 * load node:crypto (see README.md). Runs on Bun, Node and Deno.
 * @module
 */

/** Error type of this module, with a stable `reason` tag. */
export { CryptoError, type CryptoErrorReason } from "./crypto_error.ts";
/** Strict base64 / hex / UTF-8 helpers that name what failed to decode. */
export { fromBase64, fromHex, fromUtf8, toBase64, toHex, utf8 } from "./encoding.ts";
/** Constant-time comparison for digests, tokens and MACs. */
export { constantTimeEqual } from "./constant_time_equal.ts";
/** CRAM response digest (async, WebCrypto). */
export { cramDigest } from "./digests.ts";
/** The `pubKeyCS` checksum. */
export { publicKeyChecksum } from "./public_key_checksum.ts";
/** AES-256-CTR + PKCS#7 as the atSDKs use it, AES key text and IVs. */
export {
  AES_BLOCK_BYTES,
  AES_KEY_BYTES,
  ZERO_IV,
  aesCtrDecrypt,
  aesCtrEncrypt,
  generateAesKey,
  generateIv,
  parseAesKey,
} from "./aes_ctr.ts";
/** RSA-2048: key pairs in base64 DER, PKCS#1 v1.5 encryption (implicit-rejection decryption) and signatures. */
export {
  type KeyPairText,
  type RsaHash,
  RSA_MODULUS_BITS,
  generateRsaKeyPair,
  rsaDecrypt,
  rsaEncrypt,
  rsaSign,
  rsaVerify,
} from "./rsa.ts";
/** ECDSA P-256 in the at_chops hex text layout. */
export { generateP256KeyPair, p256Sign } from "./p256.ts";
/** Ed25519 with base64 DER keys. */
export { ed25519Sign, ed25519Verify, generateEd25519KeyPair } from "./ed25519.ts";
/** PKAM: the algorithm names and the one verify entry point over all of them (async, WebCrypto). */
export {
  PKAM_HASHING_ALGOS,
  PKAM_SIGNING_ALGOS,
  type PkamAlgoFields,
  type PkamHashingAlgo,
  type PkamPrivateKey,
  type PkamSigningAlgo,
  parsePkamAlgo,
  verifyPkam,
} from "./pkam.ts";
/** PKAM key generation and signing (client side). */
export { generatePkamKeyPair, signPkam } from "./pkam_signer.ts";
/** Signature verification on WebCrypto, as the services use it (async; keys cached by text). */
export { type SignatureScheme, VERIFY_KEY_CACHE_ENTRIES, verifySignature } from "./verify_signature.ts";
/** Crypto suites behind one interface, by id. */
export type { CryptoSuite, Sealed, SuiteId } from "./suite.ts";
/** The atSDK-compatible suite `rsa2048-aes256ctr`. */
export { atSdkSuite } from "./atsdk_suite.ts";
/** The modern suite `x25519-aes256gcm`. */
export { modernSuite } from "./modern_suite.ts";
/** Suite registry and lookup by id or by public key type. */
export { DEFAULT_SUITE_ID, SUITES, getSuite, suiteForPublicKey } from "./suites.ts";
/** The .atKeys file codec. */
export {
  ATKEYS_FILE_MODE,
  ATKEYS_PKAM_ALGO_FIELD,
  type AtKeys,
  type AtKeysDocument,
  AtKeysFileError,
  type AtKeysForm,
  type AtKeysLayout,
  AtKeysPassphraseRequired,
  decodeAtKeys,
  decodeAtKeysDocument,
  defaultAtKeysPath,
  encodeAtKeys,
  freshLayout,
  type OpenedAtKeys,
  openAtKeys,
  type PassphraseSource,
  protectAtKeys,
  readAtKeysFile,
  readAtKeysText,
  writeAtKeysFile,
  writeAtKeysText,
} from "./atkeys.ts";
/** The passphrase envelope of protected .atKeys files. */
export { ATKEYS_MAX_PASSPHRASE_BYTES, type EnvelopeForm } from "./atkeys_envelope.ts";
