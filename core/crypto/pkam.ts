/**
 * PKAM: signing the `from:` challenge to prove ownership of an @sign. One entry point per side so the
 * server and the client never branch on algorithms themselves.
 *
 * | signingAlgo     | hashingAlgo          | signature bytes (base64 on the wire)            | key text            |
 * |-----------------|----------------------|-------------------------------------------------|---------------------|
 * | `rsa2048`       | `sha256` / `sha512`  | RSASSA-PKCS1-v1_5                               | base64 DER          |
 * | `ecc_secp256r1` | ignored (SHA-256)    | ASCII of compact hex r‖s (at_chops layout)      | hex (p256.ts)       |
 * | `ed25519` (ours)| ignored (RFC 8032)   | raw 64-byte signature                           | base64 DER          |
 */
import { CryptoError } from "./crypto_error.ts";
import { ed25519Sign, ed25519Verify, generateEd25519KeyPair } from "./ed25519.ts";
import { fromBase64, toBase64, utf8 } from "./encoding.ts";
import { generateP256KeyPair, p256Sign, p256Verify } from "./p256.ts";
import { type KeyPairText, generateRsaKeyPair, rsaSign, rsaVerify } from "./rsa.ts";

/** The `signingAlgo` names of the `pkam:` verb (ours: `ed25519`). */
export const PKAM_SIGNING_ALGOS = ["rsa2048", "ecc_secp256r1", "ed25519"] as const;
/** A `signingAlgo` value. */
export type PkamSigningAlgo = (typeof PKAM_SIGNING_ALGOS)[number];
/** The `hashingAlgo` names of the `pkam:` verb (only RSA uses them). */
export const PKAM_HASHING_ALGOS = ["sha256", "sha512"] as const;
/** A `hashingAlgo` value. */
export type PkamHashingAlgo = (typeof PKAM_HASHING_ALGOS)[number];

/** What a client holds to answer a PKAM challenge. */
export interface PkamPrivateKey {
  algo: PkamSigningAlgo;
  privateKey: string;
}

/** The algorithm fields of a `pkam:` command; absent fields mean the reference defaults (rsa2048, sha256). */
export interface PkamAlgoFields {
  signingAlgo?: string;
  hashingAlgo?: string;
}

/** Validates the optional algorithm fields of a `pkam:` command; CryptoError("unsupported") for unknown names. */
export function parsePkamAlgo(fields: PkamAlgoFields): { signingAlgo: PkamSigningAlgo; hashingAlgo: PkamHashingAlgo } {
  const signingAlgo = fields.signingAlgo ?? "rsa2048";
  const hashingAlgo = fields.hashingAlgo ?? "sha256";
  if (!(PKAM_SIGNING_ALGOS as readonly string[]).includes(signingAlgo)) {
    throw new CryptoError("unsupported", `unknown PKAM signingAlgo "${signingAlgo}"`);
  }
  if (!(PKAM_HASHING_ALGOS as readonly string[]).includes(hashingAlgo)) {
    throw new CryptoError("unsupported", `unknown PKAM hashingAlgo "${hashingAlgo}"`);
  }
  return { signingAlgo: signingAlgo as PkamSigningAlgo, hashingAlgo: hashingAlgo as PkamHashingAlgo };
}

/** Generates a PKAM key pair for `algo` in that algorithm's text form (see the table above). */
export function generatePkamKeyPair(algo: PkamSigningAlgo): Promise<KeyPairText> {
  switch (algo) {
    case "rsa2048":
      return generateRsaKeyPair();
    case "ecc_secp256r1":
      return generateP256KeyPair();
    case "ed25519":
      return generateEd25519KeyPair();
  }
}

/**
 * Signs a PKAM challenge (the text after `data:` of the `from:` reply) and returns the base64 signature
 * for `pkam:…:<sig>`. `hashingAlgo` matters only for rsa2048.
 * @example `pkam:signingAlgo:rsa2048:hashingAlgo:sha256:${signPkam(challenge, key)}`
 */
export function signPkam(challenge: string, key: PkamPrivateKey, hashingAlgo: PkamHashingAlgo = "sha256"): string {
  const data = utf8(challenge);
  switch (key.algo) {
    case "rsa2048":
      return toBase64(rsaSign(key.privateKey, data, hashingAlgo));
    case "ecc_secp256r1":
      return toBase64(p256Sign(key.privateKey, data));
    case "ed25519":
      return toBase64(ed25519Sign(key.privateKey, data));
  }
}

/**
 * Server side: checks a `pkam:` signature against the stored public key text. Returns false for a wrong or
 * malformed signature or key; throws CryptoError("unsupported") only for unknown algorithm names.
 */
export function verifyPkam(challenge: string, signatureBase64: string, publicKeyText: string, algo: PkamAlgoFields = {}): boolean {
  const { signingAlgo, hashingAlgo } = parsePkamAlgo(algo);
  let signature: Uint8Array;
  try {
    signature = fromBase64(signatureBase64, "PKAM signature");
  } catch {
    return false;
  }
  const data = utf8(challenge);
  switch (signingAlgo) {
    case "rsa2048":
      return rsaVerify(publicKeyText, data, signature, hashingAlgo);
    case "ecc_secp256r1":
      return p256Verify(publicKeyText, data, signature);
    case "ed25519":
      return ed25519Verify(publicKeyText, data, signature);
  }
}
