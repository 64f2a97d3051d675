/**
 * Signatures made with an @sign's own key, as used by the relay handshake and the tunnel key agreement.
 *
 * `rsa2048` is the atSDK encryption key pair (the one whose public half is `public:publickey@<atsign>`),
 * RSASSA-PKCS1-v1_5 over SHA-256 — what every atSDK client already holds. `ed25519` is accepted for keys
 * made by our own tools. Key texts are base64 DER (SPKI public, PKCS#8 private), as in core/crypto.
 *
 * This module verifies on WebCrypto and never loads node:crypto, so the relay stays small; signing (client
 * side) is in at_sign_signer.ts.
 */
import { verifySignature } from "../verify_signature.ts";

/** The signature algorithms an @sign may use; the byte values are the relay wire codes. */
export const AT_SIGN_SIGNING_ALGOS = { rsa2048: 1, ed25519: 2 } as const;
/** A signature algorithm name. */
export type AtSignSigningAlgo = keyof typeof AT_SIGN_SIGNING_ALGOS;

/** What a signer holds: the algorithm and the base64 PKCS#8 private key. */
export interface AtSignSigningKey {
  algo: AtSignSigningAlgo;
  privateKey: string;
}

/** Checks a signature against the @sign's public key text; false (never a rejection) for any mismatch or bad key. */
export function verifyAtSignSignature(algo: AtSignSigningAlgo, publicKeyText: string, data: Uint8Array, signature: Uint8Array): Promise<boolean> {
  return verifySignature(algo === "rsa2048" ? "rsa-sha256" : "ed25519", publicKeyText, data, signature);
}

/** The algorithm for a wire code, or null when unknown. */
export function signingAlgoFromCode(code: number): AtSignSigningAlgo | null {
  if (code === AT_SIGN_SIGNING_ALGOS.rsa2048) return "rsa2048";
  if (code === AT_SIGN_SIGNING_ALGOS.ed25519) return "ed25519";
  return null;
}
