/**
 * Enrollment records (ATPROTOCOL.md §8.1): one JSON value per enrollment at
 * `<eid>.new.enrollments.__manage@<me>`, laid out like the reference's record, plus the keys an approval
 * stores for the new device. A pending record carries an expiry (48 h by default); the expiry sweeper removes
 * it, and until then it reads as `expired`.
 */
import * as z from "zod/mini";
import type { EnrollStatus } from "../../core/verbs/command.ts";
import { AtProtocolError } from "../../core/wire/index.ts";
import type { ServerContext } from "../context.ts";
import { isActive } from "../metadata.ts";
import { freshMeta } from "../server_keys.ts";
import type { StoredMeta } from "../store/keystore.ts";

/** States a record can be in; `expired` is computed from its expiry, never stored. */
export type ApprovalState = "pending" | "approved" | "denied" | "revoked";

/** The stored record (field names as the reference's). */
export interface EnrollmentRecord {
  sessionId: string;
  appName: string;
  deviceName: string;
  namespaces: Record<string, string>;
  apkamPublicKey: string;
  requestType: "newEnrollment";
  approval: { state: ApprovalState };
  encryptedAPKAMSymmetricKey?: string;
  apkamKeysExpiryInMillis?: number;
  /** The algorithm of `apkamPublicKey` as the request stated it (the proof of `enroll:update` signs it). */
  signingAlgo?: string;
  /** Opaque client map (key packages); `enroll:update` merges into it key by key. */
  metadata?: Record<string, unknown>;
  /** The client-composed `_apsk` document (published JSON-encoded) or the legacy bare string (verbatim). */
  apsk?: Record<string, unknown>;
  apskLegacy?: string;
  /** Self-enrollment: the enrollment this one replaced (revoking that one revokes this one too). */
  parentEnrollmentId?: string;
  /** Epoch ms of the last revocation while it stands (unrevoke clears it); `enroll:infons` reports it. */
  revokedAt?: number;
  /** Self-enrollment: set at the successor's first authentication, when the predecessor's expiry was capped. */
  predecessorCappedAt?: number;
}

/** The reference's bound on one enrollment record, measured on its JSON encoding (3.16.1). */
export const ENROLLMENT_RECORD_MAX_BYTES = 500 * 1024;
/** The bound on the `_apsk` value, measured on its encoding (the reference's 3.16.0 cap; we keep it beside the record's). */
export const APSK_MAX_BYTES = 20 * 1024;

/** Throws AT0022 when `record` would not fit ENROLLMENT_RECORD_MAX_BYTES or its `_apsk` value APSK_MAX_BYTES. */
export function checkRecordSize(record: EnrollmentRecord): void {
  const apsk = apskValue(record);
  if (apsk !== null && utf8Bytes(apsk) > APSK_MAX_BYTES) {
    throw new AtProtocolError("AT0022", `apsk is ${utf8Bytes(apsk)} bytes encoded, over the ${APSK_MAX_BYTES} byte limit`);
  }
  const bytes = utf8Bytes(JSON.stringify(record));
  if (bytes > ENROLLMENT_RECORD_MAX_BYTES) {
    throw new AtProtocolError("AT0022", `enrollment record is ${bytes} bytes encoded, over the ${ENROLLMENT_RECORD_MAX_BYTES} byte limit`);
  }
}

const utf8Bytes = (text: string): number => new TextEncoder().encode(text).byteLength;

/** What the enrollment publishes as its `_apsk`: the legacy string verbatim, the document JSON-encoded, or null. */
export function apskValue(record: Pick<EnrollmentRecord, "apsk" | "apskLegacy">): string | null {
  if (record.apskLegacy !== undefined) return record.apskLegacy;
  return record.apsk === undefined ? null : JSON.stringify(record.apsk);
}

/** Where an enrollment's `_apsk` signing key is published. */
export function apskKey(id: string, atSign: string): string {
  return `public:_apsk.${id}.a.__e${atSign}`;
}

/** A record read back, with its id and effective status. */
export interface Enrollment {
  id: string;
  record: EnrollmentRecord;
  status: EnrollStatus;
  meta: StoredMeta;
}

const recordSchema = z.looseObject({
  sessionId: z.string(),
  appName: z.string(),
  deviceName: z.string(),
  namespaces: z.record(z.string(), z.string()),
  apkamPublicKey: z.string(),
  requestType: z.literal("newEnrollment"),
  approval: z.object({ state: z.enum(["pending", "approved", "denied", "revoked"]) }),
  encryptedAPKAMSymmetricKey: z.optional(z.string()),
  apkamKeysExpiryInMillis: z.optional(z.number()),
});

/** Enrollment ids are UUIDs; anything that could change the key it names is refused. */
const ENROLLMENT_ID_RE = /^[A-Za-z0-9_-]{1,64}$/;
/** The part of a record key after the id. */
const RECORD_SUFFIX = ".new.enrollments.__manage";

/** The key of an enrollment's record, e.g. `e1.new.enrollments.__manage@alice`. */
export function enrollmentKey(id: string, atSign: string): string {
  return `${id}${RECORD_SUFFIX}${atSign}`;
}

/** The key holding an enrollment's wrapped default encryption private key. */
export function defaultEncPrivateKeyKey(id: string, atSign: string): string {
  return `${id}.default_enc_private_key.__manage${atSign}`;
}

/** The key holding an enrollment's wrapped default self-encryption key. */
export function defaultSelfEncKeyKey(id: string, atSign: string): string {
  return `${id}.default_self_enc_key.__manage${atSign}`;
}

/** The public record of an approved device's APKAM key. */
export function apkamPublicKeyKey(record: Pick<EnrollmentRecord, "appName" | "deviceName">, atSign: string): string {
  return `public:${record.appName}.${record.deviceName}.pkam.__pkams.__public_keys${atSign}`.toLowerCase();
}

/** The form-C error for an id that names no live enrollment. */
export function unknownEnrollment(id: string): AtProtocolError {
  return new AtProtocolError("AT0028", `enrollment_id: ${id} is expired or invalid`, { form: "handler" });
}

/** Whether `id` has the shape of an enrollment id. */
export function isEnrollmentId(id: string): boolean {
  return ENROLLMENT_ID_RE.test(id);
}

function fromStored(ctx: ServerContext, id: string, key: string, now: number): Enrollment | null {
  const stored = ctx.keystore.get(key);
  if (!stored?.value) return null;
  let json: unknown;
  try {
    json = JSON.parse(stored.value);
  } catch {
    return null;
  }
  const parsed = recordSchema.safeParse(json);
  if (!parsed.success) return null;
  const record = parsed.data as EnrollmentRecord;
  const status: EnrollStatus = isActive(stored.meta, now) ? record.approval.state : "expired";
  return { id, record, status, meta: stored.meta };
}

/** The enrollment `id`, or null when there is none (a malformed id is none too). */
export function readEnrollment(ctx: ServerContext, id: string, now = Date.now()): Enrollment | null {
  if (!isEnrollmentId(id)) return null;
  return fromStored(ctx, id, enrollmentKey(id, ctx.atSign), now);
}

/** Like readEnrollment, but a missing or expired enrollment is the AT0028 form-C error. */
export function liveEnrollment(ctx: ServerContext, id: string | undefined): Enrollment {
  if (id === undefined) throw new AtProtocolError("AT0022", "enrollmentId is required");
  const e = readEnrollment(ctx, id);
  if (!e || e.status === "expired") throw unknownEnrollment(id);
  return e;
}

/** Every enrollment record, in key order. */
export function listEnrollments(ctx: ServerContext, now = Date.now()): Enrollment[] {
  const suffix = `${RECORD_SUFFIX}${ctx.atSign}`;
  const out: Enrollment[] = [];
  for (const key of ctx.keystore.keys()) {
    if (!key.endsWith(suffix)) continue;
    const e = fromStored(ctx, key.slice(0, -suffix.length), key, now);
    if (e) out.push(e);
  }
  return out;
}

/**
 * Stores `record` under `id`. `expiresAt`: epoch ms, or undefined for no expiry (the record keeps its
 * creation time and version across updates).
 */
export function writeEnrollment(ctx: ServerContext, id: string, record: EnrollmentRecord, expiresAt: number | undefined, now = Date.now()): void {
  checkRecordSize(record);
  const key = enrollmentKey(id, ctx.atSign);
  const old = ctx.keystore.get(key);
  const meta: StoredMeta = old ? { ...old.meta, updatedAt: now, version: old.meta.version + 1 } : freshMeta(ctx.atSign, now);
  delete meta.expiresAt;
  delete meta.ttl;
  if (expiresAt !== undefined) {
    meta.expiresAt = expiresAt;
    meta.ttl = Math.max(0, expiresAt - meta.createdAt);
    ctx.expiryChanged(expiresAt);
  }
  ctx.keystore.put({ key, value: JSON.stringify(record), meta }, "*");
}

/** Stores a plain value the enrollment flow owns (default keys, APKAM public key record). */
export function writeValue(ctx: ServerContext, key: string, value: string, now = Date.now()): void {
  const old = ctx.keystore.get(key);
  const meta: StoredMeta = old ? { ...old.meta, updatedAt: now, version: old.meta.version + 1 } : freshMeta(ctx.atSign, now);
  ctx.keystore.put({ key, value, meta }, old ? "*" : "+");
}

/**
 * Marks enrollment `id` as the one whose APKAM key onboarding copied into the legacy PKAM key, so that
 * `pkam:` without an enrollment id is treated as that enrollment (and revoking it reaches the legacy path).
 */
export const LEGACY_PKAM_ENROLLMENT_KEY = "privatekey:at_pkam_enrollment_id";

/**
 * The id of the enrollment the stored legacy PKAM key `legacyKey` belongs to, or null. A deleted enrollment
 * still claims the key (so deleting a revoked onboarding enrollment cannot bring its key back); a record
 * with another key means the legacy key was replaced since, and no longer belongs to it.
 */
export function legacyKeyEnrollment(ctx: ServerContext, legacyKey: string): string | null {
  const id = ctx.keystore.get(LEGACY_PKAM_ENROLLMENT_KEY)?.value;
  if (!id) return null;
  const e = readEnrollment(ctx, id);
  return !e || e.record.apkamPublicKey === legacyKey ? id : null;
}
