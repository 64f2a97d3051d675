/**
 * What the atServer does with RSA besides verifying (verify_signature.ts), on WebCrypto: generating its signing
 * key pair on first start and signing `pol` proofs for other servers. Kept apart from rsa.ts (node:crypto) so
 * the server never loads node:crypto (~5 MiB RSS); the client gets the same key generation through rsa.ts.
 * Key texts are the atSDK form: base64 DER, SPKI public, PKCS#8 private.
 */
import { fromBase64, toBase64 } from "./encoding.ts";

/** Modulus size of every RSA key we generate (the atSDK default). */
export const RSA_MODULUS_BITS = 2048;
/** The public exponent of generated keys (65537, big-endian as WebCrypto wants it). */
const RSA_PUBLIC_EXPONENT_BYTES = Uint8Array.of(1, 0, 1);

const RSA_SHA256 = { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" } as const;

/** A key pair in the atSDK text form: base64 DER, public SPKI, private PKCS#8. */
export interface KeyPairText {
  publicKey: string;
  privateKey: string;
}

/** Generates an RSA-2048 key pair (async: keygen takes ~100 ms and runs off the event loop). */
export async function generateRsaKeyPair(): Promise<KeyPairText> {
  // The algorithm only labels the CryptoKeys; the exported DER is the same plain rsaEncryption key for any use.
  const params = { ...RSA_SHA256, modulusLength: RSA_MODULUS_BITS, publicExponent: RSA_PUBLIC_EXPONENT_BYTES };
  const pair = (await crypto.subtle.generateKey(params, true, ["sign", "verify"])) as CryptoKeyPair;
  const [spki, pkcs8] = await Promise.all([crypto.subtle.exportKey("spki", pair.publicKey), crypto.subtle.exportKey("pkcs8", pair.privateKey)]);
  return { publicKey: toBase64(new Uint8Array(spki)), privateKey: toBase64(new Uint8Array(pkcs8)) };
}

/**
 * RSASSA-PKCS1-v1_5 / SHA-256 signature of `data` (the same bytes as rsa.ts `rsaSign`: the scheme is
 * deterministic). Rejects for a private key text that is not RSA PKCS#8.
 * @example const signature = toBase64(await rsaSignSha256(signingPrivateKey, utf8(proof)));
 */
export async function rsaSignSha256(privateKeyText: string, data: Uint8Array): Promise<Uint8Array> {
  const key = await crypto.subtle.importKey("pkcs8", fromBase64(privateKeyText, "RSA private key"), RSA_SHA256, false, ["sign"]);
  return new Uint8Array(await crypto.subtle.sign(RSA_SHA256, key, data as Uint8Array<ArrayBuffer>));
}
