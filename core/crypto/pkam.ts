/**
 * PKAM: signing the `from:` challenge to prove ownership of an @sign. One entry point per side so the
 * server and the client never branch on algorithms themselves: `verifyPkam` here (WebCrypto, no node:crypto,
 * for the atServer's memory), `signPkam` and key generation in pkam_signer.ts (client side, node:crypto).
 *
 * | signingAlgo     | hashingAlgo          | signature bytes (base64 on the wire)            | key text            |
 * |-----------------|----------------------|-------------------------------------------------|---------------------|
 * | `rsa2048`       | `sha256` / `sha512`  | RSASSA-PKCS1-v1_5                               | base64 DER          |
 * | `ecc_secp256r1` | ignored (SHA-256)    | ASCII of compact hex r‖s (at_chops layout)      | hex (p256.ts)       |
 * | `ed25519` (ours)| ignored (RFC 8032)   | raw 64-byte signature                           | base64 DER          |
 */
import { CryptoError } from "./crypto_error.ts";
import { fromBase64, fromHex, utf8 } from "./encoding.ts";
import { verifySignature } from "./verify_signature.ts";

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

/** The P-256 signature text: r‖s in compact hex (either case, as old and new Dart releases write it). */
const COMPACT_HEX_RE = /^[0-9a-fA-F]{128}$/;

/**
 * Server side: checks a `pkam:` signature against the stored public key text (WebCrypto, see
 * verify_signature.ts). Resolves false for a wrong or malformed signature or key; rejects with
 * CryptoError("unsupported") only for unknown algorithm names.
 */
export async function verifyPkam(challenge: string, signatureBase64: string, publicKeyText: string, algo: PkamAlgoFields = {}): Promise<boolean> {
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
      return verifySignature(hashingAlgo === "sha512" ? "rsa-sha512" : "rsa-sha256", publicKeyText, data, signature);
    case "ecc_secp256r1": {
      // WebCrypto takes r‖s as bytes; at_chops sends the ASCII of their hex.
      const text = new TextDecoder().decode(signature);
      return COMPACT_HEX_RE.test(text) && verifySignature("p256-sha256", publicKeyText, data, fromHex(text, "P-256 signature"));
    }
    case "ed25519":
      return verifySignature("ed25519", publicKeyText, data, signature);
  }
}
