/**
 * `enroll:request|approve|deny|revoke|unrevoke|delete|list|fetch` (ATPROTOCOL.md §8.1): the enrollment state
 * machine. pending → approved | denied | (expired); approved ⇄ revoked; denied/revoked → deleted. Grants are
 * checked centrally before this runs (server/enroll/grants.ts); what is left here is the per-operation rules.
 */
import { hasManageAccess, MANAGE_NAMESPACE, type NamespaceGrants } from "../../core/keys/index.ts";
import type { CommandOf, EnrollParams } from "../../core/verbs/command.ts";
import { AtProtocolError } from "../../core/wire/index.ts";
import { PKAM_PUBLIC_KEY } from "../auth.ts";
import type { Connection } from "../connection.ts";
import type { ServerContext } from "../context.ts";
import { announceEnrollmentRequest } from "../enroll/announce.ts";
import { enrollmentLimits, otpFailureDelayMs, takeRequestSlot } from "../enroll/enrollment_limits.ts";
import {
  apkamPublicKeyKey,
  defaultEncPrivateKeyKey,
  defaultSelfEncKeyKey,
  enrollmentKey,
  LEGACY_PKAM_ENROLLMENT_KEY,
  listEnrollments,
  liveEnrollment,
  writeEnrollment,
  writeValue,
  type Enrollment,
  type EnrollmentRecord,
} from "../enroll/enrollment_store.ts";
import { grantsOf } from "../enroll/grants.ts";
import { closeEnrollmentConnections } from "../enroll/live_enrollments.ts";
import { consumePasscode } from "../enroll/otp_store.ts";
import { data, type HandlerTable, type Reply } from "./handler.ts";

/** Namespaces one request may name. */
export const ENROLL_MAX_NAMESPACES = 64;
/** App and device names: what fits in the key `public:<app>.<device>.pkam.__pkams.__public_keys@me`. */
const NAME_RE = /^[A-Za-z0-9_-]{1,64}$/;
/** Namespace names (with `*` and `__manage`). */
const NAMESPACE_RE = /^(?:\*|[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)*)$/;
/** Longest namespace name. */
const NAMESPACE_MAX_CHARS = 128;

const illegal = (message: string) => new AtProtocolError("AT0022", message);
/** Enrollment errors that leave the connection open (the reference's AT0011 for these). */
const refused = (message: string) => new AtProtocolError("AT0011", message, { closes: false });

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

/** Whether the approver's grants cover every requested namespace with at least the requested access. */
function covers(approver: NamespaceGrants | null, requested: Record<string, string>): boolean {
  if (approver === null) return true;
  const allows = (grant: string | undefined, need: string) => grant === "rw" || (grant === "r" && need === "r");
  return Object.entries(requested).every(([ns, need]) =>
    ns === MANAGE_NAMESPACE ? allows(approver[ns], need) : allows(approver[ns], need) || allows(approver["*"], need),
  );
}

function storeDefaultKeys(ctx: ServerContext, id: string, p: EnrollParams): void {
  const encPrivate = required(p, "encryptedDefaultEncryptionPrivateKey");
  const self = required(p, "encryptedDefaultSelfEncryptionKey");
  writeValue(ctx, defaultEncPrivateKeyKey(id, ctx.atSign), JSON.stringify({ value: encPrivate }));
  writeValue(ctx, defaultSelfEncKeyKey(id, ctx.atSign), JSON.stringify({ value: self }));
}

function approvedExpiry(record: EnrollmentRecord, now = Date.now()): number | undefined {
  const ms = record.apkamKeysExpiryInMillis;
  return ms === undefined || ms === 0 ? undefined : now + ms;
}

const statusReply = (status: string, id: string, extra: Record<string, string> = {}): Reply => data(JSON.stringify({ status, enrollmentId: id, ...extra }));

async function request(ctx: ServerContext, conn: Connection, p: EnrollParams | undefined): Promise<Reply> {
  if (conn.state.auth === "pol") throw new AtProtocolError("AT0401", "enroll:request is for devices of this @sign");
  const limits = enrollmentLimits(ctx.enrollment);
  if (!takeRequestSlot(conn, limits)) {
    throw new AtProtocolError("AT0028", `Too many enrollment requests on this connection; at most ${limits.requestsPerWindow} per ${limits.requestWindowMs / 60_000} min`, { form: "handler" });
  }
  const record: EnrollmentRecord = {
    sessionId: conn.sessionId,
    appName: checkName("appName", required(p, "appName")),
    deviceName: checkName("deviceName", required(p, "deviceName")),
    namespaces: checkNamespaces(p?.namespaces, conn.authMethod !== "cram"),
    apkamPublicKey: required(p, "apkamPublicKey"),
    requestType: "newEnrollment",
    approval: { state: "pending" },
  };
  if (p?.encryptedAPKAMSymmetricKey) record.encryptedAPKAMSymmetricKey = p.encryptedAPKAMSymmetricKey;
  if (p?.apkamKeysExpiryInMillis !== undefined) record.apkamKeysExpiryInMillis = p.apkamKeysExpiryInMillis;
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
    return statusReply("approved", id);
  }

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
  };
}

/** An APKAM connection without `__manage` sees only its own enrollment. */
function mayView(conn: Connection, id: string): boolean {
  return conn.enrollmentId === undefined || conn.enrollmentId === id || hasManageAccess(grantsOf(conn), "r");
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
  return statusReply("approved", e.id);
}

function setState(ctx: ServerContext, e: Enrollment, state: "denied" | "revoked" | "approved"): void {
  e.record.approval = { state };
  writeEnrollment(ctx, e.id, e.record, state === "approved" ? approvedExpiry(e.record) : undefined);
}

function revoke(ctx: ServerContext, conn: Connection, cmd: CommandOf<"enroll">): Reply {
  const e = liveEnrollment(ctx, cmd.params?.enrollmentId);
  expectStatus(e, ["approved"], "revoke");
  const own = conn.enrollmentId === e.id;
  if (own && !cmd.force) throw new AtProtocolError("AT0031", `Cannot revoke self enrollment ${e.id}; use enroll:revoke:force`);
  setState(ctx, e, "revoked");
  closeEnrollmentConnections(e.id, conn);
  if (!own) return statusReply("revoked", e.id);
  // The answer is written after the handler returns; the connection closes right after that.
  setTimeout(() => conn.close(), 0);
  return statusReply("revoked", e.id, { message: "This connection used the revoked enrollment and is closed" });
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
    if (!mayView(conn, e.id) || (filter && !filter.includes(e.status))) continue;
    out[enrollmentKey(e.id, ctx.atSign)] = summary(e);
  }
  return data(JSON.stringify(out));
}

function fetch(ctx: ServerContext, conn: Connection, p: EnrollParams | undefined): Reply {
  const e = liveEnrollment(ctx, p?.enrollmentId);
  if (!mayView(conn, e.id)) throw new AtProtocolError("AT0009", `Enrollment ${conn.enrollmentId} may not read enrollment ${e.id}`);
  return data(JSON.stringify(summary(e)));
}

/** Handlers of the enroll verb. */
export const enrollHandlers: HandlerTable = {
  enroll(ctx, conn, cmd) {
    if (cmd.operation === "request") return request(ctx, conn, cmd.params);
    ownerOnly(conn);
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
      case "unrevoke": {
        const e = liveEnrollment(ctx, p?.enrollmentId);
        expectStatus(e, ["revoked"], "unrevoke");
        setState(ctx, e, "approved");
        return statusReply("approved", e.id);
      }
      case "delete":
        return remove(ctx, p);
      case "list":
        return list(ctx, conn, p);
      case "fetch":
        return fetch(ctx, conn, p);
    }
  },
};
