/**
 * PKAM signature check with the P-256 code loaded on first use: the ECC verifier pulls in @noble/curves
 * (~10 MB of RSS), which an idle server — and any server whose owner uses RSA or Ed25519 — never needs.
 */
import { CryptoError } from "../core/crypto/crypto_error.ts";
import { ed25519Verify } from "../core/crypto/ed25519.ts";
import { fromBase64, utf8 } from "../core/crypto/encoding.ts";
import { rsaVerify } from "../core/crypto/rsa.ts";

/** The algorithm fields of a `pkam:` command; absent means the reference defaults (rsa2048, sha256). */
export interface PkamAlgo {
  signingAlgo?: string;
  hashingAlgo?: string;
}

/**
 * Verifies a base64 PKAM signature over `challenge` with the stored public key text. False for a wrong or
 * malformed signature or key; CryptoError("unsupported") for unknown algorithm names.
 */
export async function verifyPkamSignature(challenge: string, signatureBase64: string, publicKey: string, algo: PkamAlgo): Promise<boolean> {
  const hash = algo.hashingAlgo ?? "sha256";
  if (hash !== "sha256" && hash !== "sha512") throw new CryptoError("unsupported", `unknown PKAM hashingAlgo "${hash}"`);
  let signature: Uint8Array;
  try {
    signature = fromBase64(signatureBase64, "PKAM signature");
  } catch {
    return false;
  }
  const data = utf8(challenge);
  switch (algo.signingAlgo ?? "rsa2048") {
    case "rsa2048":
      return rsaVerify(publicKey, data, signature, hash);
    case "ed25519":
      return ed25519Verify(publicKey, data, signature);
    case "ecc_secp256r1":
      return (await import("../core/crypto/p256.ts")).p256Verify(publicKey, data, signature);
    default:
      throw new CryptoError("unsupported", `unknown PKAM signingAlgo "${algo.signingAlgo}"`);
  }
}
