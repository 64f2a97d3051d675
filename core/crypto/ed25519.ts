/**
 * Ed25519 (RFC 8032), our PKAM addition. Keys use the same text form as RSA keys (base64 DER, SPKI and
 * PKCS#8) so one parser shape serves all; signatures are the raw 64 bytes.
 */
import { type KeyObject, sign, verify } from "node:crypto";
import { generateDerKeyPair, parseDerKey } from "./der_key.ts";
import type { KeyPairText } from "./rsa.ts";

/** Generates an Ed25519 key pair (base64 DER: SPKI public, PKCS#8 private). */
export function generateEd25519KeyPair(): Promise<KeyPairText> {
  return generateDerKeyPair("ed25519");
}

const parse = (text: string, kind: "public" | "private"): KeyObject => parseDerKey(text, "ed25519", kind);

/** Signs `data` with an Ed25519 private key text; returns the 64-byte signature. */
export function ed25519Sign(privateKeyText: string, data: Uint8Array): Uint8Array {
  return new Uint8Array(sign(null, data, parse(privateKeyText, "private")));
}

/** Verifies an Ed25519 signature; false (never a throw) for a bad signature or key text. */
export function ed25519Verify(publicKeyText: string, data: Uint8Array, signature: Uint8Array): boolean {
  try {
    return verify(null, data, parse(publicKeyText, "public"), signature);
  } catch {
    return false;
  }
}
