/**
 * Owner authentication: the `from:` challenge, CRAM and PKAM (ATPROTOCOL.md §4.1, §4.2).
 *
 * The challenge is `_<session uuid>@alice:<fresh uuid>`, fresh per `from:`, valid 60 s, used once. CRAM is
 * lowercase hex SHA-512(secret + challenge), compared in constant time. PKAM verifies a signature over the
 * challenge with `privatekey:at_pkam_publickey`; once that key exists CRAM is refused (our hardening: the
 * bootstrap secret stops being a second way in). Failures keep the connection open but are counted per
 * connection, per address, per network prefix and (CRAM) in total (auth_throttle.ts).
 */
import { constantTimeEqual } from "../core/crypto/constant_time_equal.ts";
import { CryptoError } from "../core/crypto/crypto_error.ts";
import { cramDigest } from "../core/crypto/digests.ts";
import { verifyPkam } from "../core/crypto/pkam.ts";
import { AtProtocolError, CHALLENGE_TTL_MS } from "../core/wire/index.ts";
import { AUTH_FAILURES_PER_CONNECTION_MAX, type AuthAttempt } from "./auth_throttle.ts";
import type { Connection } from "./connection.ts";
import type { ServerContext } from "./context.ts";
import { legacyKeyEnrollment, readEnrollment, type Enrollment } from "./enroll/enrollment_store.ts";
import { forgetEnrollmentConnection, trackEnrollmentConnection } from "./enroll/live_enrollments.ts";
import { capPredecessorOnFirstAuth } from "./enroll/self_enrollment.ts";

/** Reserved key holding the CRAM secret. */
export const CRAM_SECRET_KEY = "privatekey:at_secret";
/** Reserved key holding the legacy PKAM public key. */
export const PKAM_PUBLIC_KEY = "privatekey:at_pkam_publickey";

/** Issues a fresh challenge on `conn` and returns it (the text after `data:`). */
export function issueChallenge(conn: Connection, atSign: string): string {
  const text = `${conn.sessionId}${atSign}:${crypto.randomUUID()}`;
  conn.challenge = { text, issuedAt: Date.now() };
  return text;
}

function refuseWhenThrottled(ctx: ServerContext, conn: Connection, attempt: AuthAttempt): void {
  const waitMs = ctx.throttle.retryAfterMs(conn.address, attempt);
  if (conn.authFailures >= AUTH_FAILURES_PER_CONNECTION_MAX) {
    throw new AtProtocolError("AT0401", "Too many failed authentication attempts on this connection; reconnect to try again");
  }
  if (waitMs > 0) {
    throw new AtProtocolError("AT0401", `Too many failed authentication attempts from this address or network; try again in ${Math.ceil(waitMs / 1000)} s`);
  }
}

function takeChallenge(conn: Connection): string {
  const c = conn.challenge;
  if (!c) throw new AtProtocolError("AT0401", "Authentication Failed: send from:<atSign> first");
  if (Date.now() - c.issuedAt > CHALLENGE_TTL_MS) {
    conn.challenge = undefined;
    throw new AtProtocolError("AT0401", "Authentication Failed: the challenge expired; send from:<atSign> again");
  }
  return c.text;
}

function fail(ctx: ServerContext, conn: Connection, attempt: AuthAttempt, message: string): never {
  conn.authFailures++;
  ctx.throttle.fail(conn.address, attempt);
  throw new AtProtocolError("AT0401", message);
}

function succeed(ctx: ServerContext, conn: Connection, method: "cram" | "pkam"): void {
  conn.challenge = undefined;
  conn.state = { auth: "owner", atSign: ctx.atSign };
  conn.authMethod = method;
  ctx.lastLoginAt = Date.now();
  if (method === "pkam") ctx.lastPkamAt = ctx.lastLoginAt;
}

/** Checks a `cram:<digest>`; on success the connection becomes owner-authenticated. Throws AT0401 otherwise. */
export async function authenticateCram(ctx: ServerContext, conn: Connection, digest: string): Promise<void> {
  refuseWhenThrottled(ctx, conn, "secret");
  const challenge = takeChallenge(conn);
  if (ctx.keystore.get(PKAM_PUBLIC_KEY)) {
    throw new AtProtocolError("AT0401", "Authentication Failed: CRAM is disabled once a PKAM public key is stored; use pkam");
  }
  const secret = ctx.keystore.get(CRAM_SECRET_KEY)?.value;
  if (!secret) throw new AtProtocolError("AT0401", "Authentication Failed: this @sign has no CRAM secret");
  if (!constantTimeEqual(await cramDigest(secret, challenge), digest.trim().toLowerCase())) fail(ctx, conn, "secret", "Authentication Failed");
  succeed(ctx, conn, "cram");
}

/** The fields of a `pkam:` command. */
export interface PkamRequest {
  signingAlgo?: string;
  hashingAlgo?: string;
  enrollmentId?: string;
  signature: string;
}

/** Checks a `pkam:` signature; on success the connection becomes owner-authenticated. Throws otherwise. */
export async function authenticatePkam(ctx: ServerContext, conn: Connection, req: PkamRequest): Promise<void> {
  refuseWhenThrottled(ctx, conn, "signature");
  const challenge = takeChallenge(conn);
  const legacyKey = ctx.keystore.get(PKAM_PUBLIC_KEY)?.value;
  // A legacy key that onboarding copied from an enrollment stays bound to it: its grants apply and revoking it ends it.
  const legacyEnrollment = req.enrollmentId === undefined && legacyKey ? legacyKeyEnrollment(ctx, legacyKey) : null;
  const enrollmentId = req.enrollmentId ?? legacyEnrollment ?? undefined;
  const enrollment = enrollmentId === undefined ? null : approvedEnrollment(ctx, enrollmentId);
  const publicKey = enrollment ? enrollment.record.apkamPublicKey : legacyKey;
  if (!publicKey) fail(ctx, conn, "signature", "pkam authentication failed: no PKAM public key is stored");
  let ok: boolean;
  try {
    ok = await verifyPkam(challenge, req.signature, publicKey, { signingAlgo: req.signingAlgo, hashingAlgo: req.hashingAlgo });
  } catch (err) {
    if (err instanceof CryptoError) fail(ctx, conn, "signature", `pkam authentication failed: ${err.message}`);
    throw err;
  }
  if (!ok) fail(ctx, conn, "signature", "pkam authentication failed");
  succeed(ctx, conn, "pkam");
  forgetEnrollmentConnection(conn);
  conn.enrollmentId = enrollment?.id;
  conn.grants = enrollment?.record.namespaces;
  if (enrollment) trackEnrollmentConnection(conn, enrollment.id);
  if (enrollment) capPredecessorOnFirstAuth(ctx, enrollment);
}

/** The APKAM states that refuse `pkam:...:enrollmentId:<id>`, as form-C errors (ATPROTOCOL.md §4.2). */
const REFUSED_ENROLLMENT = { pending: "AT0026", denied: "AT0025", revoked: "AT0027", expired: "AT0028" } as const;

function approvedEnrollment(ctx: ServerContext, id: string): Enrollment {
  const e = readEnrollment(ctx, id);
  if (!e) throw new AtProtocolError("AT0028", `enrollment_id: ${id} is expired or invalid`, { form: "handler" });
  if (e.status !== "approved") throw new AtProtocolError(REFUSED_ENROLLMENT[e.status], `enrollment_id: ${id} is ${e.status}`, { form: "handler" });
  return e;
}
