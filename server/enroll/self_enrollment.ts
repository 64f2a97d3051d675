/**
 * Self-enrollment (the reference's "retrofit", at_server 3.16): an APKAM connection that sends
 * `enroll:request` enrolls a fresh enrollment that replaces its own. No OTP and no approver: the approved
 * enrollment the connection authenticated as is the authority, so the successor is approved at once and holds
 * exactly its predecessor's grants (asking for more is AT0009, asking for other ones too). The predecessor is
 * not retired by the request: the successor's first authentication proves its key survived on the client, and
 * only then the predecessor's expiry is capped to the grace period. The first enrollment of the @sign (the
 * onboarding one) is never capped: it is the one credential the server cannot issue again.
 */
import type { EnrollParams } from "../../core/verbs/command.ts";
import { AtProtocolError } from "../../core/wire/index.ts";
import type { Connection } from "../connection.ts";
import type { ServerContext } from "../context.ts";
import { covers } from "./enroll_replies.ts";
import { enrollmentLimits } from "./enrollment_limits.ts";
import {
  apskKey,
  apskValue,
  checkRecordSize,
  LEGACY_PKAM_ENROLLMENT_KEY,
  listEnrollments,
  readEnrollment,
  writeEnrollment,
  writeValue,
  type Enrollment,
  type EnrollmentRecord,
} from "./enrollment_store.ts";

const unauthorized = (message: string) => new AtProtocolError("AT0009", message);

/** The predecessor's grants, after refusing a request that names more (escalation) or names others. */
function inheritedGrants(parent: Enrollment, requested: Record<string, string> | undefined): Record<string, string> {
  const held = parent.record.namespaces;
  if (requested && !covers(held, requested)) {
    throw unauthorized(`A self-enrollment cannot exceed the grants of enrollment ${parent.id}, which holds ${JSON.stringify(held)}`);
  }
  const stated = Object.entries(requested ?? {});
  const same = stated.length === Object.keys(held).length && stated.every(([ns, a]) => held[ns] === a);
  if (stated.length > 0 && !same) {
    throw unauthorized(`A self-enrollment replaces enrollment ${parent.id} and carries its grants ${JSON.stringify(held)}: omit namespaces or state exactly them`);
  }
  return { ...held };
}

/** The successor's key lifetime: its own when it is no longer than the predecessor's, else the predecessor's. */
function inheritedExpiry(parent: EnrollmentRecord, stated: number | undefined): number | undefined {
  const bound = parent.apkamKeysExpiryInMillis ?? 0;
  if (stated === undefined) return parent.apkamKeysExpiryInMillis;
  return bound > 0 && (stated === 0 || stated > bound) ? bound : stated;
}

/**
 * Writes the successor of the connection's enrollment and publishes its `_apsk`; returns its id. `base` is
 * the record as `enroll:request` built it (names, key, apsk, metadata).
 */
export function selfEnroll(ctx: ServerContext, conn: Connection, base: EnrollmentRecord, p: EnrollParams | undefined): string {
  const parent = conn.enrollmentId === undefined ? null : readEnrollment(ctx, conn.enrollmentId);
  if (!parent || parent.status !== "approved") throw unauthorized(`Enrollment ${conn.enrollmentId} is not approved; it cannot enroll a successor`);
  const record: EnrollmentRecord = { ...base, namespaces: inheritedGrants(parent, p?.namespaces), approval: { state: "approved" }, parentEnrollmentId: parent.id };
  const expiry = inheritedExpiry(parent.record, p?.apkamKeysExpiryInMillis);
  if (expiry === undefined) delete record.apkamKeysExpiryInMillis;
  else record.apkamKeysExpiryInMillis = expiry;
  checkRecordSize(record);
  const id = crypto.randomUUID();
  writeEnrollment(ctx, id, record, expiry ? Date.now() + expiry : undefined);
  publishApsk(ctx, id, record);
  return id;
}

/** Publishes the enrollment's client-composed `_apsk` value, if it has one. */
export function publishApsk(ctx: ServerContext, id: string, record: EnrollmentRecord): void {
  const value = apskValue(record);
  if (value !== null) writeValue(ctx, apskKey(id, ctx.atSign), value);
}

/**
 * Runs at every APKAM authentication: the first one of a successor caps its predecessor's expiry to
 * now + grace (never later than it was), unless the predecessor is the @sign's first enrollment.
 */
export function capPredecessorOnFirstAuth(ctx: ServerContext, successor: Enrollment, now = Date.now()): void {
  const parentId = successor.record.parentEnrollmentId;
  if (parentId === undefined || successor.record.predecessorCappedAt !== undefined) return;
  successor.record.predecessorCappedAt = now;
  writeEnrollment(ctx, successor.id, successor.record, successor.meta.expiresAt);
  const parent = readEnrollment(ctx, parentId, now);
  if (!parent || parent.status !== "approved" || ctx.keystore.get(LEGACY_PKAM_ENROLLMENT_KEY)?.value === parentId) return;
  const capped = Math.min(parent.meta.expiresAt ?? Infinity, now + enrollmentLimits(ctx.enrollment).selfEnrollmentGraceMs);
  writeEnrollment(ctx, parent.id, parent.record, capped);
}

/** The enrollments that replaced `id`, directly or through others (revoking `id` revokes them too). */
export function successorsOf(ctx: ServerContext, id: string): Enrollment[] {
  const all = listEnrollments(ctx);
  const out: Enrollment[] = [];
  const frontier = [id];
  while (frontier.length > 0) {
    const next = frontier.pop()!;
    for (const e of all) {
      if (e.record.parentEnrollmentId === next && !out.includes(e)) {
        out.push(e);
        frontier.push(e.id);
      }
    }
  }
  return out;
}
