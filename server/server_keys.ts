/**
 * Keys the server writes itself at start (ATPROTOCOL.md §3.3): the CRAM secret, used until the owner stores a
 * PKAM public key, and the RSA-2048 signing key pair other servers use to check our `pol` proofs.
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { toHex } from "../core/crypto/encoding.ts";
import { generateRsaKeyPair } from "../core/crypto/rsa_webcrypto.ts";
import { CRAM_SECRET_KEY, PKAM_PUBLIC_KEY } from "./auth.ts";
import type { Keystore, StoredMeta } from "./store/keystore.ts";

/** File (mode 0600) holding a generated CRAM secret. */
export const CRAM_SECRET_FILE = "cram.secret";
/** Bytes of a generated CRAM secret (written as 128 hex characters, like the reference's test secrets). */
const CRAM_SECRET_BYTES = 64;

/** Marker the reference writes when `delete:privatekey:at_secret` ran; a deleted secret is never re-created. */
export const CRAM_SECRET_DELETED_KEY = "privatekey:at_secret_deleted";
const SIGNING_GENERATED_KEY = "privatekey:signing_keypair_generated";

/** Metadata of a brand-new key written by `atSign` now. */
export function freshMeta(atSign: string, now = Date.now()): StoredMeta {
  return { createdBy: atSign, updatedBy: atSign, createdAt: now, updatedAt: now, version: 0 };
}

/**
 * The CRAM secret to use: `given`, else the one in `DATA/cram.secret`, else a new random one written there
 * with mode 0600.
 */
export function loadOrCreateCramSecret(dataDir: string, given?: string): string {
  if (given) return given;
  const file = join(dataDir, CRAM_SECRET_FILE);
  if (existsSync(file)) return readFileSync(file, "utf8").trim();
  const secret = toHex(crypto.getRandomValues(new Uint8Array(CRAM_SECRET_BYTES)));
  writeFileSync(file, secret + "\n", { mode: 0o600 });
  return secret;
}

/** Whether the owner has completed onboarding (a PKAM public key is stored). */
export function isOnboarded(ks: Keystore): boolean {
  return ks.get(PKAM_PUBLIC_KEY) !== null;
}

/**
 * Stores the CRAM secret (unless onboarding already deleted it) and generates the signing key pair once.
 * An explicitly given secret replaces a stored one, so an operator can reset a lost bootstrap secret.
 */
export async function ensureServerKeys(ks: Keystore, atSign: string, cramSecret: string): Promise<void> {
  const stored = ks.get(CRAM_SECRET_KEY);
  if (!ks.get(CRAM_SECRET_DELETED_KEY) && stored?.value !== cramSecret) {
    ks.put({ key: CRAM_SECRET_KEY, value: cramSecret, meta: stored?.meta ?? freshMeta(atSign) }, "*");
  }
  if (!ks.get(SIGNING_GENERATED_KEY)) {
    const pair = await generateRsaKeyPair();
    ks.put({ key: `public:signing_publickey${atSign}`, value: pair.publicKey, meta: freshMeta(atSign) }, "+");
    // The private half never syncs to clients: only this server signs pol proofs.
    ks.put({ key: `${atSign}:signing_privatekey${atSign}`, value: pair.privateKey, meta: freshMeta(atSign) }, "+", { skipCommit: true });
    ks.put({ key: SIGNING_GENERATED_KEY, value: "true", meta: freshMeta(atSign) }, "+");
  }
}
