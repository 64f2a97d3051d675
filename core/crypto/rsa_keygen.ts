/**
 * RSA-2048 key generation on WebCrypto, in the atSDK text form (base64 DER: SPKI public, PKCS#8 private).
 * Kept apart from rsa.ts so an atServer creating its signing key on first start does not load node:crypto
 * (~5 MiB RSS); the client gets the same function through rsa.ts.
 */
import { toBase64 } from "./encoding.ts";

/** Modulus size of every RSA key we generate (the atSDK default). */
export const RSA_MODULUS_BITS = 2048;
/** The public exponent of generated keys (65537, big-endian as WebCrypto wants it). */
const RSA_PUBLIC_EXPONENT_BYTES = Uint8Array.of(1, 0, 1);

/** A key pair in the atSDK text form: base64 DER, public SPKI, private PKCS#8. */
export interface KeyPairText {
  publicKey: string;
  privateKey: string;
}

/** Generates an RSA-2048 key pair (async: keygen takes ~100 ms and runs off the event loop). */
export async function generateRsaKeyPair(): Promise<KeyPairText> {
  // The algorithm only labels the CryptoKeys; the exported DER is the same plain rsaEncryption key for any use.
  const params = { name: "RSASSA-PKCS1-v1_5", modulusLength: RSA_MODULUS_BITS, publicExponent: RSA_PUBLIC_EXPONENT_BYTES, hash: "SHA-256" };
  const pair = (await crypto.subtle.generateKey(params, true, ["sign", "verify"])) as CryptoKeyPair;
  const [spki, pkcs8] = await Promise.all([crypto.subtle.exportKey("spki", pair.publicKey), crypto.subtle.exportKey("pkcs8", pair.privateKey)]);
  return { publicKey: toBase64(new Uint8Array(spki)), privateKey: toBase64(new Uint8Array(pkcs8)) };
}
