/**
 * ECDSA P-256 (secp256r1) with SHA-256 in the text layout of at_chops' EccSigningAlgo (Dart `elliptic` and
 * `ecdsa` packages): public key = hex of the uncompressed point `04‖X‖Y` (130 characters), private key = hex
 * of the 32-byte scalar, signature = the ASCII bytes of the "compact hex" r‖s (each 64 hex characters,
 * lowercase); on the wire PKAM base64-encodes those ASCII bytes. Verification accepts high-S signatures,
 * because older Dart `ecdsa` releases did not normalise s.
 */
import { type KeyObject, createECDH, createPrivateKey, createPublicKey, generateKeyPair, sign, verify } from "node:crypto";
import { Buffer } from "node:buffer";
import { CryptoError } from "./crypto_error.ts";
import { fromHex, toHex, utf8 } from "./encoding.ts";
import type { KeyPairText } from "./rsa.ts";

/** Byte length of a P-256 field element / scalar. */
const P256_SCALAR_BYTES = 32;
const COMPACT_HEX_RE = /^[0-9a-fA-F]{128}$/;

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

/** Parses `04‖X‖Y` hex into a public KeyObject; throws CryptoError("bad_key") if not a P-256 point. */
export function parseP256PublicKey(hex: string): KeyObject {
  const point = fromHex(hex, "P-256 public key");
  if (point.byteLength !== 1 + 2 * P256_SCALAR_BYTES || point[0] !== 0x04) {
    throw new CryptoError("bad_key", "P-256 public key must be an uncompressed point (04‖X‖Y, 130 hex characters)");
  }
  try {
    return createPublicKey({ key: jwkPublic(point), format: "jwk" });
  } catch {
    throw new CryptoError("bad_key", "P-256 public key is not a point on the curve");
  }
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

/** Verifies a signature in the ASCII compact-hex form; false (never a throw) for anything malformed. */
export function p256Verify(publicKeyHex: string, data: Uint8Array, signature: Uint8Array): boolean {
  try {
    const text = new TextDecoder().decode(signature);
    if (!COMPACT_HEX_RE.test(text)) return false;
    const key = parseP256PublicKey(publicKeyHex);
    return verify("sha256", data, { key, dsaEncoding: "ieee-p1363" }, fromHex(text, "P-256 signature"));
  } catch {
    return false;
  }
}
