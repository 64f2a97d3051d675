/**
 * Key pairs of the curve algorithms node:crypto knows by name (Ed25519, X25519) in our text form: base64 DER,
 * SPKI for the public half and PKCS#8 for the private one — the form RSA keys take in .atKeys files.
 */
import { type KeyObject, createPrivateKey, createPublicKey, generateKeyPair } from "node:crypto";
import { Buffer } from "node:buffer";
import { CryptoError } from "./crypto_error.ts";
import { fromBase64, toBase64 } from "./encoding.ts";
import type { KeyPairText } from "./rsa.ts";

/** The algorithms this module handles, with the names errors show. */
export type DerKeyType = "ed25519" | "x25519";
const LABEL: Record<DerKeyType, string> = { ed25519: "Ed25519", x25519: "X25519" };

/** Generates a key pair of `type` as base64 DER text. */
export function generateDerKeyPair(type: DerKeyType): Promise<KeyPairText> {
  return new Promise((resolve, reject) => {
    const encoding = { publicKeyEncoding: { type: "spki", format: "der" }, privateKeyEncoding: { type: "pkcs8", format: "der" } } as const;
    const done = (err: Error | null, publicKey: Buffer, privateKey: Buffer) =>
      err ? reject(err) : resolve({ publicKey: toBase64(publicKey), privateKey: toBase64(privateKey) });
    if (type === "ed25519") generateKeyPair("ed25519", encoding, done);
    else generateKeyPair("x25519", encoding, done);
  });
}

/** Parses base64 DER key text; CryptoError("bad_key") when it is not a `type` key of that `kind`. */
export function parseDerKey(text: string, type: DerKeyType, kind: "public" | "private"): KeyObject {
  const der = Buffer.from(fromBase64(text, `${LABEL[type]} ${kind} key`));
  let key: KeyObject;
  try {
    key = kind === "public" ? createPublicKey({ key: der, format: "der", type: "spki" }) : createPrivateKey({ key: der, format: "der", type: "pkcs8" });
  } catch {
    throw new CryptoError("bad_key", `${LABEL[type]} ${kind} key is not DER ${kind === "public" ? "SPKI" : "PKCS#8"}`);
  }
  if (key.asymmetricKeyType !== type) throw new CryptoError("bad_key", `expected an ${LABEL[type]} ${kind} key, got ${key.asymmetricKeyType}`);
  return key;
}
