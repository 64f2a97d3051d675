/**
 * `enroll:update` (at_server 3.16): an approved enrollment amends its own record, keeping its id. It may
 * change `apkamPublicKey` (with `signingAlgo`), `apsk`/`apskLegacy` and `metadata` (merged key by key), and
 * nothing else: `namespaces` (and the approval state, refused by the grammar) are refused by name, so an
 * enrollment cannot widen its own grant. A new key needs `apkamPublicKeySignature`, the new private key's
 * signature over `<enrollmentId>|<apkamPublicKey>|<signingAlgo>`: the connection proves the current key, and
 * only this proves the new one (else a stolen session could install an attacker's key and lock the owner
 * out). The record's state and expiry are untouched.
 */
import { CryptoError } from "../../core/crypto/crypto_error.ts";
import { verifyPkam } from "../../core/crypto/pkam.ts";
import type { EnrollParams } from "../../core/verbs/command.ts";
import { PKAM_PUBLIC_KEY } from "../auth.ts";
import type { Connection } from "../connection.ts";
import type { ServerContext } from "../context.ts";
import { data, type Reply } from "../verbs/handler.ts";
import { illegal, refused } from "./enroll_replies.ts";
import { apkamPublicKeyKey, LEGACY_PKAM_ENROLLMENT_KEY, liveEnrollment, writeEnrollment, writeValue, type EnrollmentRecord } from "./enrollment_store.ts";
import { publishApsk } from "./self_enrollment.ts";

/** The text the new key signs; an absent algorithm is the reference's literal `null`. */
export function rotationProofText(enrollmentId: string, apkamPublicKey: string, signingAlgo: string | undefined): string {
  return `${enrollmentId}|${apkamPublicKey}|${signingAlgo ?? "null"}`;
}

function checkParams(p: EnrollParams | undefined): { id: string; p: EnrollParams } {
  const id = p?.enrollmentId;
  if (!p || !id) throw illegal("enrollmentId is mandatory for enroll:update");
  if (p.namespaces !== undefined) throw illegal("enroll:update cannot change namespaces: an enrollment amending itself must not widen its own grant");
  if (p.apkamPublicKey === undefined && p.signingAlgo === undefined && p.apsk === undefined && p.apskLegacy === undefined && p.metadata === undefined) {
    throw illegal("enroll:update must name at least one of apkamPublicKey, signingAlgo, apsk, apskLegacy or metadata");
  }
  if (p.apsk !== undefined && p.apskLegacy !== undefined) throw illegal("apsk and apskLegacy are mutually exclusive: one enrollment publishes one _apsk value");
  if (p.signingAlgo !== undefined && p.apkamPublicKey === undefined) throw illegal("signingAlgo cannot be changed without apkamPublicKey: the algorithm describes the key");
  return { id, p };
}

async function proveNewKey(id: string, key: string, signingAlgo: string | undefined, signature: string | undefined): Promise<void> {
  if (!signature) throw refused("enroll:update changing apkamPublicKey requires apkamPublicKeySignature: proof that the sender holds the new private key");
  let ok = false;
  try {
    ok = await verifyPkam(rotationProofText(id, key, signingAlgo), signature, key, { signingAlgo });
  } catch (err) {
    if (!(err instanceof CryptoError)) throw err;
  }
  if (!ok) throw refused("apkamPublicKeySignature does not verify against the apkamPublicKey being installed");
}

function applyChanges(record: EnrollmentRecord, p: EnrollParams): void {
  if (p.apkamPublicKey !== undefined) record.apkamPublicKey = p.apkamPublicKey;
  if (p.signingAlgo !== undefined) record.signingAlgo = p.signingAlgo;
  if (p.apsk !== undefined) {
    record.apsk = p.apsk;
    delete record.apskLegacy;
  } else if (p.apskLegacy !== undefined) {
    record.apskLegacy = p.apskLegacy;
    delete record.apsk;
  }
  if (p.metadata !== undefined) record.metadata = { ...record.metadata, ...p.metadata };
}

/** Handles `enroll:update` on `conn`. */
export async function updateEnrollment(ctx: ServerContext, conn: Connection, params: EnrollParams | undefined): Promise<Reply> {
  const { id, p } = checkParams(params);
  if (conn.enrollmentId !== id) {
    throw refused(`enroll:update is self-only: this connection is authenticated as ${conn.enrollmentId ?? "the owner"}, not ${id}`);
  }
  const e = liveEnrollment(ctx, id);
  if (e.status !== "approved") throw refused(`enroll:update requires an approved enrollment; ${id} is ${e.status}`);
  const oldKey = e.record.apkamPublicKey;
  if (p.apkamPublicKey !== undefined) await proveNewKey(id, p.apkamPublicKey, p.signingAlgo ?? e.record.signingAlgo, p.apkamPublicKeySignature);
  applyChanges(e.record, p);
  writeEnrollment(ctx, id, e.record, e.meta.expiresAt);
  if (p.apkamPublicKey !== undefined) rotatePublishedKeys(ctx, id, e.record, oldKey);
  if (p.apsk !== undefined || p.apskLegacy !== undefined) publishApsk(ctx, id, e.record);
  return data(JSON.stringify({ enrollmentId: id, status: "approved" }));
}

/**
 * The device's public APKAM key record follows the rotation; so does the legacy PKAM key when onboarding
 * copied it from this enrollment (else the old key would go on working through plain `pkam:`, unbound).
 */
function rotatePublishedKeys(ctx: ServerContext, id: string, record: EnrollmentRecord, oldKey: string): void {
  writeValue(ctx, apkamPublicKeyKey(record, ctx.atSign), record.apkamPublicKey);
  if (ctx.keystore.get(LEGACY_PKAM_ENROLLMENT_KEY)?.value === id && ctx.keystore.get(PKAM_PUBLIC_KEY)?.value === oldKey) {
    writeValue(ctx, PKAM_PUBLIC_KEY, record.apkamPublicKey);
  }
}
