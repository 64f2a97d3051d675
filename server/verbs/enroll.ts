/**
 * `enroll:request|approve|deny|revoke|unrevoke|delete|list|fetch` (ATPROTOCOL.md §8.1): the enrollment state
 * machine. pending → approved | denied | (expired); approved ⇄ revoked; denied/revoked → deleted. Grants are
 * checked centrally before this runs (server/enroll/grants.ts); what is left here is the per-operation rules.
 * `update`, `listns` and `infons` (at_server 3.15/3.16) live in server/enroll/, as does self-enrollment.
 */
import { hasManageAccess, MANAGE_NAMESPACE } from "../../core/keys/index.ts";
import type { CommandOf, EnrollParams } from "../../core/verbs/command.ts";
import { AtProtocolError } from "../../core/wire/index.ts";
import { PKAM_PUBLIC_KEY } from "../auth.ts";
import type { Connection } from "../connection.ts";
import type { ServerContext } from "../context.ts";
import { announceEnrollmentRequest } from "../enroll/announce.ts";
import { covers, illegal, refused, statusReply } from "../enroll/enroll_replies.ts";
import { updateEnrollment } from "../enroll/enroll_update.ts";
import { enrollmentLimits, otpFailureDelayMs, takeRequestSlot } from "../enroll/enrollment_limits.ts";
import {
  apkamPublicKeyKey,
  checkRecordSize,
  defaultEncPrivateKeyKey,
  defaultSelfEncKeyKey,
  enrollmentKey,
  LEGACY_PKAM_ENROLLMENT_KEY,
  listEnrollments,
  liveEnrollment,
  readEnrollment,
  writeEnrollment,
  writeValue,
  type Enrollment,
  type EnrollmentRecord,
} from "../enroll/enrollment_store.ts";
import { grantsOf } from "../enroll/grants.ts";
import { closeEnrollmentConnections } from "../enroll/live_enrollments.ts";
import { listNamespace, namespaceInfo } from "../enroll/namespace_roster.ts";
import { consumePasscode } from "../enroll/otp_store.ts";
import { publishApsk, selfEnroll, successorsOf } from "../enroll/self_enrollment.ts";
import { data, type HandlerTable, type Reply } from "./handler.ts";

/** Namespaces one request may name. */
export const ENROLL_MAX_NAMESPACES = 64;
/** App and device names: what fits in the key `public:<app>.<device>.pkam.__pkams.__public_keys@me`. */
const NAME_RE = /^[A-Za-z0-9_-]{1,64}$/;
/** Namespace names (with `*` and `__manage`). */
const NAMESPACE_RE = /^(?:\*|[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)*)$/;
/** Longest namespace name. */
const NAMESPACE_MAX_CHARS = 128;

function required<K extends keyof EnrollParams>(p: EnrollParams | undefined, field: K): NonNullable<EnrollParams[K]> {
  const v = p?.[field];
  if (v === undefined || v === "") throw illegal(`${field} is required`);
  return v as NonNullable<EnrollParams[K]>;
}

function checkName(field: string, value: string): string {
  if (!NAME_RE.test(value)) throw illegal(`${field} must be 1-64 letters, digits, _ or -`);
  return value;
}

function checkNamespaces(ns: Record<string, string> | undefined, atLeastOne: boolean): Record<string, string> {
  const entries = Object.entries(ns ?? {});
  if (atLeastOne && entries.length === 0) throw illegal("namespaces must name at least one namespace");
  if (entries.length > ENROLL_MAX_NAMESPACES) throw illegal(`namespaces may name at most ${ENROLL_MAX_NAMESPACES} namespaces`);
  const out: Record<string, string> = {};
  for (const [name, access] of entries) {
    if (name.length > NAMESPACE_MAX_CHARS || !NAMESPACE_RE.test(name)) throw illegal(`invalid namespace "${name.slice(0, NAMESPACE_MAX_CHARS)}"`);
    if (access !== "r" && access !== "rw") throw illegal(`access of namespace ${name} must be r or rw`);
    out[name.toLowerCase()] = access;
  }
  return out;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function ownerOnly(conn: Connection): void {
  if (conn.state.auth !== "owner") throw new AtProtocolError("AT0401", "Command cannot be executed without auth");
}

function storeDefaultKeys(ctx: ServerContext, id: string, p: EnrollParams): void {
  const encPrivate = required(p, "encryptedDefaultEncryptionPrivateKey");
  const self = required(p, "encryptedDefaultSelfEncryptionKey");
  const withIv = (value: string, iv: string | undefined) => JSON.stringify(iv === undefined ? { value } : { value, iv });
  writeValue(ctx, defaultEncPrivateKeyKey(id, ctx.atSign), withIv(encPrivate, p.encPrivateKeyIV));
  writeValue(ctx, defaultSelfEncKeyKey(id, ctx.atSign), withIv(self, p.selfEncKeyIV));
}

function approvedExpiry(record: EnrollmentRecord, now = Date.now()): number | undefined {
  const ms = record.apkamKeysExpiryInMillis;
  return ms === undefined || ms === 0 ? undefined : now + ms;
}

/** The record an `enroll:request` asks for (pending; the paths below adjust it). */
function requestedRecord(conn: Connection, p: EnrollParams | undefined): EnrollmentRecord {
  if (p?.apsk !== undefined && p.apskLegacy !== undefined) throw illegal("apsk and apskLegacy are mutually exclusive: one enrollment publishes one _apsk value");
  const record: EnrollmentRecord = {
    sessionId: conn.sessionId,
    appName: checkName("appName", required(p, "appName")),
    deviceName: checkName("deviceName", required(p, "deviceName")),
    // A self-enrollment may omit namespaces (it inherits its predecessor's).
    namespaces: checkNamespaces(p?.namespaces, conn.authMethod !== "cram" && conn.enrollmentId === undefined),
    apkamPublicKey: required(p, "apkamPublicKey"),
    requestType: "newEnrollment",
    approval: { state: "pending" },
  };
  const optional = ["encryptedAPKAMSymmetricKey", "apkamKeysExpiryInMillis", "signingAlgo", "metadata", "apsk", "apskLegacy"] as const;
  for (const field of optional) {
    const value = p?.[field];
    if (value !== undefined && value !== "") Object.assign(record, { [field]: value });
  }
  return record;
}

async function request(ctx: ServerContext, conn: Connection, p: EnrollParams | undefined): Promise<Reply> {
  if (conn.state.auth === "pol") throw new AtProtocolError("AT0401", "enroll:request is for devices of this @sign");
  const limits = enrollmentLimits(ctx.enrollment);
  if (!takeRequestSlot(conn, limits)) {
    throw new AtProtocolError("AT0028", `Too many enrollment requests on this connection; at most ${limits.requestsPerWindow} per ${limits.requestWindowMs / 60_000} min`, { form: "handler" });
  }
  const record = requestedRecord(conn, p);
  // Before anything is written or an OTP spent.
  checkRecordSize(record);
  const id = crypto.randomUUID();

  if (conn.state.auth === "owner" && conn.authMethod === "cram") {
    // Onboarding: the first device gets everything and becomes the PKAM key of the @sign.
    record.namespaces = { ...record.namespaces, [MANAGE_NAMESPACE]: "rw", "*": "rw" };
    record.approval = { state: "approved" };
    storeDefaultKeys(ctx, id, p!);
    writeEnrollment(ctx, id, record, approvedExpiry(record));
    writeValue(ctx, apkamPublicKeyKey(record, ctx.atSign), record.apkamPublicKey);
    writeValue(ctx, PKAM_PUBLIC_KEY, record.apkamPublicKey);
    writeValue(ctx, LEGACY_PKAM_ENROLLMENT_KEY, id);
    publishApsk(ctx, id, record);
    return statusReply("approved", id);
  }
  if (conn.enrollmentId !== undefined) return statusReply("approved", selfEnroll(ctx, conn, record, p));

  if (conn.state.auth === "none") {
    const otp = p?.otp;
    const waitMs = ctx.throttle.retryAfterMs(conn.address, "secret");
    if (waitMs > 0) throw refused(`Too many failed attempts from this address; try again in ${Math.ceil(waitMs / 1000)} s`);
    if (otp === undefined || !consumePasscode(ctx, otp)) {
      ctx.throttle.fail(conn.address, "secret");
      await sleep(otpFailureDelayMs(conn, limits));
      throw refused("invalid otp. Cannot process enroll request");
    }
  }
  if (!record.encryptedAPKAMSymmetricKey) throw illegal("encryptedAPKAMSymmetricKey is required");
  const all = listEnrollments(ctx);
  if (all.length >= limits.maxEnrollments) throw refused(`This @sign holds ${limits.maxEnrollments} enrollments; delete denied or revoked ones first`);
  const same = all.find((e) => (e.status === "pending" || e.status === "approved") && e.record.appName === record.appName && e.record.deviceName === record.deviceName);
  if (same) throw refused(`An enrollment for app ${record.appName} on device ${record.deviceName} is already ${same.status}`);
  writeEnrollment(ctx, id, record, Date.now() + limits.pendingLifetimeMs);
  announceEnrollmentRequest(ctx, enrollmentKey(id, ctx.atSign), record);
  return statusReply("pending", id);
}

function expectStatus(e: Enrollment, allowed: string[], op: string): void {
  if (!allowed.includes(e.status)) throw refused(`Cannot ${op} a ${e.status} enrollment (enrollment_id: ${e.id})`);
}

/** What list and fetch show of a record. */
function summary(e: Enrollment): Record<string, unknown> {
  return {
    appName: e.record.appName,
    deviceName: e.record.deviceName,
    namespace: e.record.namespaces,
    encryptedAPKAMSymmetricKey: e.record.encryptedAPKAMSymmetricKey ?? null,
    status: e.status,
    ...(e.record.metadata === undefined ? {} : { metadata: e.record.metadata }),
  };
}

/** An APKAM connection without `__manage` sees only its own enrollment in `enroll:list`. */
function mayList(conn: Connection, id: string): boolean {
  return conn.enrollmentId === undefined || conn.enrollmentId === id || hasManageAccess(grantsOf(conn), "r");
}

/**
 * `enroll:fetch` shows the encrypted APKAM symmetric key: another enrollment's only to a caller with `__manage`
 * and every namespace the target holds, the bar of approve and revoke (3.15); an empty grant is refused.
 */
function mayFetch(conn: Connection, e: Enrollment): boolean {
  if (conn.enrollmentId === undefined || conn.enrollmentId === e.id) return true;
  const grants = grantsOf(conn);
  return hasManageAccess(grants, "r") && Object.keys(e.record.namespaces).length > 0 && covers(grants, e.record.namespaces);
}

function approve(ctx: ServerContext, conn: Connection, p: EnrollParams | undefined): Reply {
  const e = liveEnrollment(ctx, p?.enrollmentId);
  expectStatus(e, ["pending"], "approve");
  if (!covers(grantsOf(conn), e.record.namespaces)) {
    throw new AtProtocolError("AT0009", `Enrollment ${conn.enrollmentId} cannot grant namespaces it does not hold itself`);
  }
  storeDefaultKeys(ctx, e.id, p!);
  if (p?.apkamKeysExpiryInMillis !== undefined) e.record.apkamKeysExpiryInMillis = p.apkamKeysExpiryInMillis;
  e.record.approval = { state: "approved" };
  writeEnrollment(ctx, e.id, e.record, approvedExpiry(e.record));
  writeValue(ctx, apkamPublicKeyKey(e.record, ctx.atSign), e.record.apkamPublicKey);
  // Read off the record, never the approve parameters: an approver must not choose the enrollee's signing key.
  publishApsk(ctx, e.id, e.record);
  return statusReply("approved", e.id);
}

function setState(ctx: ServerContext, e: Enrollment, state: "denied" | "revoked" | "approved", now = Date.now()): void {
  e.record.approval = { state };
  if (state === "revoked") e.record.revokedAt = now;
  else delete e.record.revokedAt;
  writeEnrollment(ctx, e.id, e.record, state === "approved" ? approvedExpiry(e.record) : undefined);
}

/**
 * Revokes the enrollment and (3.16) every approved enrollment that replaced it through self-enrollment, so a
 * stolen key file cannot keep a successor alive; a caller inside that chain is refused, as it would revoke itself,
 * and so is the last root enrollment revoking itself even with force (the @sign could approve no one after).
 */
function revoke(ctx: ServerContext, conn: Connection, cmd: CommandOf<"enroll">): Reply {
  const e = liveEnrollment(ctx, cmd.params?.enrollmentId);
  expectStatus(e, ["approved"], "revoke");
  const own = conn.enrollmentId === e.id;
  if (own && !cmd.force) throw new AtProtocolError("AT0031", `Cannot revoke self enrollment ${e.id}; use enroll:revoke:force`);
  const cascade = successorsOf(ctx, e.id).filter((s) => s.status === "approved");
  if (cascade.some((s) => s.id === conn.enrollmentId)) {
    throw refused(`Cannot revoke enrollment ${e.id}: ${conn.enrollmentId}, the enrollment making this request, replaced it and would be revoked with it`);
  }
  if (own && isRoot(e) && !listEnrollments(ctx).some((o) => o.status === "approved" && isRoot(o) && o.id !== e.id && !cascade.includes(o))) {
    throw refused(`Cannot revoke enrollment ${e.id}: it is the last enrollment holding * and __manage, and no enrollment could approve a replacement; approve another first`);
  }
  const now = Date.now();
  for (const target of [...cascade, e]) {
    setState(ctx, target, "revoked", now);
    closeEnrollmentConnections(target.id, conn);
  }
  const extra = cascade.length > 0 ? { cascadedEnrollmentIds: cascade.map((s) => s.id) } : {};
  if (!own) return statusReply("revoked", e.id, extra);
  // The answer is written after the handler returns; the connection closes right after that.
  setTimeout(() => conn.close(), 0);
  return statusReply("revoked", e.id, { ...extra, message: "This connection used the revoked enrollment and is closed" });
}

/** Whether `e` holds everything (`*` and `__manage`, both rw): the kind of enrollment that can approve any other. */
function isRoot(e: Enrollment): boolean {
  return e.record.namespaces["*"] === "rw" && e.record.namespaces[MANAGE_NAMESPACE] === "rw";
}

/** Unrevoke; refused while the enrollment this one replaced exists and is not approved (the cascade stays one-way). */
function unrevoke(ctx: ServerContext, p: EnrollParams | undefined): Reply {
  const e = liveEnrollment(ctx, p?.enrollmentId);
  expectStatus(e, ["revoked"], "unrevoke");
  const parentId = e.record.parentEnrollmentId;
  const parent = parentId === undefined ? null : readEnrollment(ctx, parentId);
  if (parent && parent.status !== "approved") {
    throw refused(`Cannot unrevoke enrollment ${e.id}: the enrollment it replaced (${parent.id}) is ${parent.status}`);
  }
  setState(ctx, e, "approved");
  return statusReply("approved", e.id);
}

function remove(ctx: ServerContext, p: EnrollParams | undefined): Reply {
  const e = liveEnrollment(ctx, p?.enrollmentId);
  expectStatus(e, ["denied", "revoked"], "delete");
  for (const key of [enrollmentKey(e.id, ctx.atSign), defaultEncPrivateKeyKey(e.id, ctx.atSign), defaultSelfEncKeyKey(e.id, ctx.atSign)]) {
    if (ctx.keystore.get(key)) ctx.keystore.remove(key);
  }
  return data(JSON.stringify({ enrollmentId: e.id, status: "deleted" }));
}

function list(ctx: ServerContext, conn: Connection, p: EnrollParams | undefined): Reply {
  const filter = p?.enrollmentStatusFilter;
  const out: Record<string, unknown> = {};
  for (const e of listEnrollments(ctx)) {
    if (!mayList(conn, e.id) || (filter && !filter.includes(e.status))) continue;
    out[enrollmentKey(e.id, ctx.atSign)] = summary(e);
  }
  return data(JSON.stringify(out));
}

function fetch(ctx: ServerContext, conn: Connection, p: EnrollParams | undefined): Reply {
  const e = liveEnrollment(ctx, p?.enrollmentId);
  if (!mayFetch(conn, e)) {
    throw new AtProtocolError("AT0009", `Enrollment ${conn.enrollmentId} may not fetch enrollment ${e.id}: that needs __manage and access to all of its namespaces`);
  }
  return data(JSON.stringify(summary(e)));
}

/** Handlers of the enroll verb. */
export const enrollHandlers: HandlerTable = {
  enroll(ctx, conn, cmd) {
    if (cmd.operation === "request") return request(ctx, conn, cmd.params);
    ownerOnly(conn);
    if (cmd.operation === "update") return updateEnrollment(ctx, conn, cmd.params);
    if (cmd.operation === "listns") return listNamespace(ctx, conn, cmd.namespace);
    if (cmd.operation === "infons") return namespaceInfo(ctx, conn, cmd.namespace);
    const p = cmd.params;
    switch (cmd.operation) {
      case "approve":
        return approve(ctx, conn, p);
      case "deny": {
        const e = liveEnrollment(ctx, p?.enrollmentId);
        expectStatus(e, ["pending"], "deny");
        setState(ctx, e, "denied");
        return statusReply("denied", e.id);
      }
      case "revoke":
        return revoke(ctx, conn, cmd);
      case "unrevoke":
        return unrevoke(ctx, p);
      case "delete":
        return remove(ctx, p);
      case "list":
        return list(ctx, conn, p);
      case "fetch":
        return fetch(ctx, conn, p);
    }
  },
};
