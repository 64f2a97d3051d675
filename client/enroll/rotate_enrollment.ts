/**
 * The 3.15/3.16 enrollment forms from the device side: rotating this device's APKAM key in place
 * (`enroll:update`, same enrollment id) and asking who holds a namespace (`enroll:listns`) or when one last
 * lost a member (`enroll:infons`).
 */
import type { AtKeys } from "../../core/crypto/atkeys.ts";
import type { PkamSigningAlgo } from "../../core/crypto/pkam.ts";
import { generatePkamKeyPair, signPkam } from "../../core/crypto/pkam_signer.ts";
import { buildCommand } from "../../core/verbs/index.ts";
import type { AtClient } from "../at_client.ts";
import { AtServerError, AtUsageError } from "../errors.ts";

/**
 * Replaces this device's APKAM key pair with a new one of `algo` (default: the current algorithm) and returns
 * the keys to keep. The server stops accepting the old key as soon as it answers, so write the returned keys
 * to the .atKeys file before anything else; open a new AtClient with them for further sessions.
 */
export async function rotateApkamKey(client: AtClient, algo: PkamSigningAlgo = client.keys.pkamAlgo): Promise<AtKeys> {
  const enrollmentId = client.keys.enrollmentId;
  if (!enrollmentId) throw new AtUsageError("Only an APKAM enrollment can rotate its key with enroll:update; these keys have no enrollment id");
  const fresh = await generatePkamKeyPair(algo);
  // Proof of possession: the new key signs <enrollmentId>|<apkamPublicKey>|<signingAlgo>.
  const apkamPublicKeySignature = signPkam(`${enrollmentId}|${fresh.publicKey}|${algo}`, { algo, privateKey: fresh.privateKey });
  await client.command(buildCommand({ verb: "enroll", operation: "update", params: { enrollmentId, apkamPublicKey: fresh.publicKey, signingAlgo: algo, apkamPublicKeySignature } }));
  return { ...client.keys, pkamAlgo: algo, pkamPublicKey: fresh.publicKey, pkamPrivateKey: fresh.privateKey };
}

/** One approved enrollment holding a namespace, as `enroll:listns` shows it. */
export interface NamespaceMember {
  enrollmentId: string;
  access: string;
  metadata: Record<string, unknown> | null;
}

/** The approved enrollments with at least read access to `namespace` (this enrollment must hold it too). */
export async function namespaceMembers(client: AtClient, namespace: string): Promise<NamespaceMember[]> {
  const answer = JSON.parse(await client.command(buildCommand({ verb: "enroll", operation: "listns", namespace }))) as unknown;
  if (!Array.isArray(answer)) throw new AtServerError("AT0014", "server", "enroll:listns answered something that is not a JSON list");
  return answer as NamespaceMember[];
}

/** When an enrollment holding `namespace` was last revoked (null: none is revoked now). */
export async function namespaceLastRevokedAt(client: AtClient, namespace: string): Promise<Date | null> {
  const answer = JSON.parse(await client.command(buildCommand({ verb: "enroll", operation: "infons", namespace }))) as { lastRevokedAt?: string | null };
  return answer.lastRevokedAt ? new Date(answer.lastRevokedAt) : null;
}
