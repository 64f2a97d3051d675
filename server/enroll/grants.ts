/**
 * What an APKAM connection (one that authenticated with an enrollment) may do (ATPROTOCOL.md §2.3 step 8,
 * §8.4): before every command the enrollment is re-read and must still be approved; then the command's needs,
 * from one table with an entry for every verb, are checked against the enrollment's namespace grants.
 * Connections without an enrollment (legacy PKAM, CRAM, unauthenticated) are not limited here.
 *
 * Beyond the reference (which lets any enrollment touch reserved keys), writes to reserved keys other than
 * shared-key records need `*:rw`,
 * `privatekey:` keys need `*` (and `__manage:rw` to write), the enrollment/OTP keys need `__manage`, and the
 * server's signing private key needs `__manage` or `*` to read: otherwise an app enrolled for `wavi` could
 * replace the @sign's public key, approve itself, or sign server-to-server proofs as the @sign.
 */
import { hasManageAccess, isNamespaceAuthorized, isReservedKey, normalizeKey, type NamespaceAccess, type NamespaceGrants } from "../../core/keys/index.ts";
import type { Command, CommandOf, EnrollOperation, VerbName } from "../../core/verbs/command.ts";
import { AtProtocolError } from "../../core/wire/index.ts";
import type { Connection } from "../connection.ts";
import type { ServerContext } from "../context.ts";
import { storageKey } from "../key_policy.ts";
import { readEnrollment } from "./enrollment_store.ts";

/** Keys that steer enrollment itself: records, wrapped default keys, OTPs and the SPP. */
function isManagementKey(key: string): boolean {
  const at = key.lastIndexOf("@");
  const name = at <= 0 ? key : key.slice(0, at);
  return name.endsWith(".__manage") || (name.startsWith("private:") && (name.endsWith(".__otp") || name === "private:spp"));
}

/** The server's signing private key (`@alice:signing_privatekey@alice`): whoever reads it can sign pol proofs as @alice. */
const SIGNING_PRIVATE_KEY_RE = /^@([^:@\s]+):signing_privatekey@\1$/;

/** Per-enrollment namespaces `<enrollmentId>.a|r|d.__e` (the reference's); group 1 is the owning enrollment. */
const PER_ENROLLMENT_RE = /(?:^|[.:])([A-Za-z0-9_-]+)\.[ard]\.__e@[^:@\s]+$/;

/**
 * Whether `key` lies in another enrollment's per-enrollment namespace, which no grant reaches, not even `*`
 * (3.15); public keys there stay readable. (The namespace of the enrollment itself is always its own.)
 * @example isOtherEnrollmentsKey("e1", "public:_apsk.e2.a.__e@alice", "rw") // true
 */
export function isOtherEnrollmentsKey(ownId: string | undefined, key: string, need: NamespaceAccess): boolean {
  const owner = perEnrollmentOwner(key);
  if (owner === undefined || owner === ownId) return false;
  return !(need === "r" && key.startsWith("public:"));
}

/** The enrollment whose per-enrollment namespace holds `key`, if it is in one. */
export function perEnrollmentOwner(key: string): string | undefined {
  return PER_ENROLLMENT_RE.exec(key)?.[1];
}

/** Shared-key records (`@bob:shared_key@me`, `shared_key.bob@me`): any app that shares data needs them. */
const SHARED_KEY_RE = /^(?:@[^:@\s]+:shared_key|shared_key\.[^:@\s]+)@[^:@\s]+$/;

function grantAllows(grant: string | undefined, need: NamespaceAccess): boolean {
  return grant === "rw" || (grant === "r" && need === "r");
}

/**
 * Whether grants (null = no enrollment: full access) allow `need` on the stored key `key`, for the connection
 * of enrollment `ownEnrollmentId` (whose per-enrollment namespace is its own).
 * @example mayAccessKey({ wavi: "r" }, "phone.wavi@alice", "r") // true
 * @example mayAccessKey({ wavi: "rw" }, "public:publickey@alice", "rw") // false
 */
export function mayAccessKey(grants: NamespaceGrants | null, key: string, need: NamespaceAccess, ownEnrollmentId?: string): boolean {
  if (grants === null) return true;
  if (isOtherEnrollmentsKey(ownEnrollmentId, key, need)) return false;
  // An enrollment's own `<id>.a|r|d.__e` namespace is its own data (its `_apsk`, per-device records).
  if (ownEnrollmentId !== undefined && perEnrollmentOwner(key) === ownEnrollmentId) return true;
  if (isManagementKey(key)) return hasManageAccess(grants, need);
  if (key.startsWith("privatekey:")) return grantAllows(grants["*"], need) && (need === "r" || hasManageAccess(grants, "rw"));
  if (SIGNING_PRIVATE_KEY_RE.test(key)) return grantAllows(grants["*"], need) || (need === "r" && hasManageAccess(grants, "r"));
  if (SHARED_KEY_RE.test(key)) return true;
  if (need === "rw" && isReservedKey(key)) return grantAllows(grants["*"], "rw");
  return isNamespaceAuthorized(grants, key, need);
}

/** The grants of a connection: its enrollment's, or null (full access) for connections without one. */
export function grantsOf(conn: Connection): NamespaceGrants | null {
  return conn.enrollmentId === undefined ? null : (conn.grants ?? {});
}

/** Whether scan may list `key` to this connection: public keys, and keys it may read (§5.8). */
export function scanMayList(conn: Connection, key: string): boolean {
  return conn.enrollmentId === undefined || key.startsWith("public:") || mayAccessKey(grantsOf(conn), key, "r", conn.enrollmentId);
}

/** The AT0009 denial; it names the grants, so the user of an app sees what the enrollment covers. */
export function denied(conn: Connection, what: string, need: NamespaceAccess): AtProtocolError {
  const granted = Object.entries(conn.grants ?? {}).map(([ns, a]) => `${ns}:${a}`).join(", ") || "none";
  return new AtProtocolError(
    "AT0009",
    `Connection with enrollment ID ${conn.enrollmentId} is not authorized to ${need === "r" ? "read" : "write"} ${what} (this enrollment holds ${granted})`,
  );
}

type Check<V extends VerbName> = (ctx: ServerContext, conn: Connection, grants: NamespaceGrants, cmd: CommandOf<V>) => void;

/** Nothing to check (or the handler filters). */
const none = (): void => {};

function key(conn: Connection, grants: NamespaceGrants, full: string, need: NamespaceAccess): void {
  if (!mayAccessKey(grants, full, need, conn.enrollmentId)) throw denied(conn, full, need);
}

/** An unqualified name (`lookup:`/`notify:` targets): authorised as `name@owner`, reserved names as public keys. */
function named(conn: Connection, grants: NamespaceGrants, name: string, owner: string, need: NamespaceAccess): void {
  const full = normalizeKey(`${name}${owner}`);
  if (need === "r" && isReservedKey(`public:${full}`)) return;
  key(conn, grants, full, need);
}

/** `plookup:` reads only public keys: a public key in another enrollment's namespace stays readable. */
function publicNamed(conn: Connection, grants: NamespaceGrants, name: string, owner: string): void {
  const full = normalizeKey(`${name}${owner}`);
  if (isOtherEnrollmentsKey(conn.enrollmentId, full, "r") && !isOtherEnrollmentsKey(conn.enrollmentId, `public:${full}`, "r")) return;
  named(conn, grants, name, owner, "r");
}

function everything(need: NamespaceAccess) {
  return (_ctx: ServerContext, conn: Connection, grants: NamespaceGrants) => {
    if (!grantAllows(grants["*"], need)) throw denied(conn, "data outside its namespaces (this needs the * namespace)", need);
  };
}

function manage(need: NamespaceAccess) {
  return (_ctx: ServerContext, conn: Connection, grants: NamespaceGrants) => {
    if (!hasManageAccess(grants, need)) throw denied(conn, "enrollments and OTPs (this needs the __manage namespace)", need);
  };
}

/** The gatekeeper's configuration: the owner's business, so `*` or `__manage` (either). */
function gatekeeperCheck(need: NamespaceAccess) {
  return (_ctx: ServerContext, conn: Connection, grants: NamespaceGrants) => {
    if (!grantAllows(grants["*"], need) && !hasManageAccess(grants, need)) throw denied(conn, "the gatekeeper (this needs the * or __manage namespace)", need);
  };
}

/**
 * Enroll operations any approved enrollment may send; the handler decides what they show or allow: list and
 * fetch (own enrollment), request (self-enrollment, never wider than the requester), update (self only),
 * listns and infons (namespaces the caller holds).
 */
const SELF_SERVED_ENROLL_OPERATIONS: readonly EnrollOperation[] = ["list", "fetch", "request", "update", "listns", "infons"];

/**
 * Every verb's needs. `none`: nothing to check, or the handler filters what it shows (scan, sync:from, enroll
 * list/fetch, keys, and monitor / notify:list / notify:status / notify:fetch per notification key, in
 * server/notify/notification_access.ts).
 */
const CHECKS: { [V in VerbName]: Check<V> } = {
  exit: none,
  from: none,
  cram: none,
  pkam: none,
  pol: none,
  info: none,
  noop: none,
  batch: none, // every item goes through this check on its own
  scan: none,
  syncFrom: none,
  keys: none,
  update: (ctx, conn, g, cmd) => key(conn, g, storageKey(cmd.key, ctx.atSign), "rw"),
  updateMeta: (ctx, conn, g, cmd) => key(conn, g, storageKey(cmd.key, ctx.atSign), "rw"),
  updateJson: (ctx, conn, g, cmd) => named(conn, g, cmd.body.atKey, cmd.body.sharedBy ?? ctx.atSign, "rw"),
  delete: (ctx, conn, g, cmd) => key(conn, g, storageKey(cmd.key, ctx.atSign), "rw"),
  llookup: (ctx, conn, g, cmd) => key(conn, g, storageKey(cmd.key, ctx.atSign), "r"),
  lookup: (_ctx, conn, g, cmd) => named(conn, g, cmd.name, cmd.atSign, "r"),
  plookup: (_ctx, conn, g, cmd) => publicNamed(conn, g, cmd.name, cmd.atSign),
  notify: (ctx, conn, g, cmd) => named(conn, g, cmd.atKey, cmd.atSign ?? ctx.atSign, "rw"),
  notifyAll: (ctx, conn, g, cmd) => named(conn, g, cmd.atKey, cmd.atSign ?? ctx.atSign, "rw"),
  notifyMulti: (_ctx, conn, g, cmd) => named(conn, g, cmd.atKey, cmd.atSign, "rw"),
  to: none,
  notifyStatus: none,
  notifyList: none,
  notifyFetch: none,
  notifyRemove: everything("rw"),
  monitor: none,
  stats: (ctx, conn, g, cmd) => {
    // 15 lists every key, 17 every connection's peer @sign: not one namespace's business.
    if (cmd.ids?.some((id) => id === 15 || id === 17)) everything("r")(ctx, conn, g);
  },
  config: (ctx, conn, g, cmd) => {
    if (cmd.operation === "gatekeeper") gatekeeperCheck(cmd.gate.op === "show" || cmd.gate.op === "quarantineList" ? "r" : "rw")(ctx, conn, g);
    else if (cmd.operation === "blockShow" || cmd.operation === "allowShow") everything("r")(ctx, conn, g);
    else if (cmd.operation !== "set" && cmd.operation !== "reset" && cmd.operation !== "print") everything("rw")(ctx, conn, g);
  },
  enroll: (ctx, conn, g, cmd) => {
    if (!SELF_SERVED_ENROLL_OPERATIONS.includes(cmd.operation)) manage("rw")(ctx, conn, g);
  },
  otp: (ctx, conn, g, cmd) => manage(cmd.operation === "get" ? "r" : "rw")(ctx, conn, g),
  stream: everything("rw"),
};

/**
 * Runs before every command: on an APKAM connection, re-reads its enrollment (revoked, expired or deleted →
 * AT0028 and the connection closes; the grants are refreshed otherwise), then checks the command's needs.
 * Throws AT0009 when the enrollment's namespaces do not allow the command.
 */
export function checkCommandAccess(ctx: ServerContext, conn: Connection, cmd: Command): void {
  const id = conn.enrollmentId;
  if (id === undefined || cmd.verb === "exit") return;
  const e = readEnrollment(ctx, id);
  if (!e || e.status !== "approved") {
    throw new AtProtocolError("AT0028", `enrollment_id: ${id} is ${e?.status ?? "expired or invalid"}`, { form: "handler", closes: true });
  }
  conn.grants = e.record.namespaces;
  (CHECKS[cmd.verb] as Check<VerbName>)(ctx, conn, conn.grants, cmd);
}
