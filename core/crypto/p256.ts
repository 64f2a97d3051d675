/**
 * ECDSA P-256 (secp256r1) with SHA-256 in the text layout of at_chops' EccSigningAlgo (Dart `elliptic` and
 * `ecdsa` packages): public key = hex of the uncompressed point `04‖X‖Y` (130 characters), private key = hex
 * of the 32-byte scalar, signature = the ASCII bytes of the "compact hex" r‖s (each 64 hex characters,
 * lowercase); on the wire PKAM base64-encodes those ASCII bytes. Key generation and signing (client side)
 * live here; verification is pkam.ts's `verifyPkam` on WebCrypto, which accepts high-S signatures, because
 * older Dart `ecdsa` releases did not normalise s.
 */
import { type KeyObject, createECDH, createPrivateKey, generateKeyPair, sign } from "node:crypto";
import { Buffer } from "node:buffer";
import { CryptoError } from "./crypto_error.ts";
import { fromHex, toHex, utf8 } from "./encoding.ts";
import type { KeyPairText } from "./rsa.ts";

/** Byte length of a P-256 field element / scalar. */
const P256_SCALAR_BYTES = 32;

function b64url(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString("base64url");
}

function jwkPublic(point: Uint8Array): { kty: "EC"; crv: "P-256"; x: string; y: string } {
  return { kty: "EC", crv: "P-256", x: b64url(point.subarray(1, 33)), y: b64url(point.subarray(33, 65)) };
}

/** Generates a P-256 key pair in the at_chops hex text form. */
export function generateP256KeyPair(): Promise<KeyPairText> {
  return new Promise((resolve, reject) => {
    generateKeyPair("ec", { namedCurve: "P-256" }, (err, publicKey, privateKey) => {
      if (err) return reject(err);
      const jwk = privateKey.export({ format: "jwk" });
      const point = publicKey.export({ format: "der", type: "spki" }).subarray(-65); // SPKI ends with the point
      resolve({ publicKey: toHex(point), privateKey: Buffer.from(jwk.d ?? "", "base64url").toString("hex") });
    });
  });
}

/**
 * Parses the private scalar hex into a private KeyObject. The public point JWK needs is derived natively
 * (ECDH over the same curve), which also refuses 0 and scalars not below the group order.
 */
export function parseP256PrivateKey(hex: string): KeyObject {
  const d = fromHex(hex, "P-256 private key");
  let point: Uint8Array;
  try {
    if (d.byteLength !== P256_SCALAR_BYTES) throw new RangeError("wrong length");
    const ecdh = createECDH("prime256v1");
    ecdh.setPrivateKey(d);
    point = new Uint8Array(ecdh.getPublicKey());
  } catch {
    throw new CryptoError("bad_key", "P-256 private key must be a valid 32-byte scalar (64 hex characters)");
  }
  return createPrivateKey({ key: { ...jwkPublic(point), d: b64url(d) }, format: "jwk" });
}

/** Signs `data` (ECDSA P-256 / SHA-256); returns the ASCII bytes of the lowercase compact hex r‖s. */
export function p256Sign(privateKeyHex: string, data: Uint8Array): Uint8Array {
  const rs = sign("sha256", data, { key: parseP256PrivateKey(privateKeyHex), dsaEncoding: "ieee-p1363" });
  return utf8(toHex(new Uint8Array(rs)));
}
