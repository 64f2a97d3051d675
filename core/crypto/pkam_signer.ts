/**
 * The client side of PKAM (see pkam.ts for the algorithms and their text forms): key generation and signing
 * the `from:` challenge, on node:crypto like the rest of the client SDK.
 */
import { ed25519Sign, generateEd25519KeyPair } from "./ed25519.ts";
import { toBase64, utf8 } from "./encoding.ts";
import { generateP256KeyPair, p256Sign } from "./p256.ts";
import type { PkamHashingAlgo, PkamPrivateKey, PkamSigningAlgo } from "./pkam.ts";
import { type KeyPairText, generateRsaKeyPair, rsaSign } from "./rsa.ts";

/** Generates a PKAM key pair for `algo` in that algorithm's text form (the table in pkam.ts). */
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
