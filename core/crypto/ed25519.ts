/**
 * Ed25519 (RFC 8032), our PKAM addition. Keys use the same text form as RSA keys (base64 DER, SPKI and
 * PKCS#8) so one parser shape serves all; signatures are the raw 64 bytes.
 */
import { type KeyObject, createPrivateKey, createPublicKey, generateKeyPair, sign, verify } from "node:crypto";
import { Buffer } from "node:buffer";
import { CryptoError } from "./crypto_error.ts";
import { fromBase64, toBase64 } from "./encoding.ts";
import type { KeyPairText } from "./rsa.ts";

/** Generates an Ed25519 key pair (base64 DER: SPKI public, PKCS#8 private). */
export function generateEd25519KeyPair(): Promise<KeyPairText> {
  return new Promise((resolve, reject) => {
    generateKeyPair(
      "ed25519",
      { publicKeyEncoding: { type: "spki", format: "der" }, privateKeyEncoding: { type: "pkcs8", format: "der" } },
      (err, publicKey, privateKey) => {
        if (err) reject(err);
        else resolve({ publicKey: toBase64(publicKey), privateKey: toBase64(privateKey) });
      },
    );
  });
}

function parse(text: string, kind: "public" | "private"): KeyObject {
  const der = Buffer.from(fromBase64(text, `Ed25519 ${kind} key`));
  let key: KeyObject;
  try {
    key =
      kind === "public"
        ? createPublicKey({ key: der, format: "der", type: "spki" })
        : createPrivateKey({ key: der, format: "der", type: "pkcs8" });
  } catch {
    throw new CryptoError("bad_key", `Ed25519 ${kind} key is not DER ${kind === "public" ? "SPKI" : "PKCS#8"}`);
  }
  if (key.asymmetricKeyType !== "ed25519") {
    throw new CryptoError("bad_key", `expected an Ed25519 ${kind} key, got ${key.asymmetricKeyType}`);
  }
  return key;
}

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
