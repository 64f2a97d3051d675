/**
 * The client side of @sign signatures (algorithms in at_sign_signature.ts), on node:crypto like the rest of
 * the client SDK: signing, and the synchronous check the tunnel handshake makes inside a socket callback.
 */
import { ed25519Sign, ed25519Verify } from "../ed25519.ts";
import { rsaSign, rsaVerify } from "../rsa.ts";
import type { AtSignSigningAlgo, AtSignSigningKey } from "./at_sign_signature.ts";

/** Signs `data` with the @sign's key. */
export function signAsAtSign(key: AtSignSigningKey, data: Uint8Array): Uint8Array {
  return key.algo === "rsa2048" ? rsaSign(key.privateKey, data, "sha256") : ed25519Sign(key.privateKey, data);
}

/**
 * `verifyAtSignSignature` without the await, for code that cannot yield (the tunnel handshake); false (never a
 * throw) for any mismatch or bad key. Services use the WebCrypto one.
 */
export function verifyAtSignSignatureSync(algo: AtSignSigningAlgo, publicKeyText: string, data: Uint8Array, signature: Uint8Array): boolean {
  return algo === "rsa2048" ? rsaVerify(publicKeyText, data, signature, "sha256") : ed25519Verify(publicKeyText, data, signature);
}
