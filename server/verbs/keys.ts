/**
 * `keys:put|get|delete` (ATPROTOCOL.md §8.5): keys an enrolled device keeps on its atServer, and how a new
 * device fetches the default keys its approver wrapped for it. Only for connections that authenticated with
 * an enrollment; every key is checked against that enrollment's namespaces.
 */
import { checkKeyLength, isNamespaceAuthorized } from "../../core/keys/index.ts";
import type { CommandOf } from "../../core/verbs/command.ts";
import { AtProtocolError } from "../../core/wire/index.ts";
import type { Connection } from "../connection.ts";
import type { ServerContext } from "../context.ts";
import { defaultEncPrivateKeyKey, defaultSelfEncKeyKey, readEnrollment, writeValue, type EnrollmentRecord } from "../enroll/enrollment_store.ts";
import { denied, grantsOf, mayAccessKey } from "../enroll/grants.ts";
import { isActive } from "../metadata.ts";
import { data, type HandlerTable } from "./handler.ts";

/** Key names keys:put accepts (they become part of a stored key). */
const KEY_NAME_RE = /^[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)*$/;

type KeysCommand = CommandOf<"keys">;

/** Where keys:put stores a key of each visibility. */
function location(ctx: ServerContext, r: EnrollmentRecord, visibility: string, ns: string, name: string): string {
  const me = ctx.atSign;
  switch (visibility) {
    case "public":
      return `public:${name}.__public_keys.${ns}${me}`.toLowerCase();
    case "private":
      return `private:${r.appName}.${r.deviceName}.${name}.__private_keys.${ns}${me}`.toLowerCase();
    default:
      return `${r.appName}.${r.deviceName}.${name}.__self_keys.${ns}${me}`.toLowerCase();
  }
}

/** The device's own wrapped default keys, which it may read although they live in `__manage`. */
function ownDefaultKeys(ctx: ServerContext, conn: Connection): string[] {
  const id = conn.enrollmentId!;
  return [defaultEncPrivateKeyKey(id, ctx.atSign), defaultSelfEncKeyKey(id, ctx.atSign)];
}

function get(ctx: ServerContext, conn: Connection, r: EnrollmentRecord, cmd: KeysCommand): string {
  const grants = grantsOf(conn);
  if (cmd.keyName !== undefined) {
    const key = cmd.keyName.toLowerCase();
    // Server secrets (privatekey:) are never handed out, as llookup does not either.
    if (key.startsWith("privatekey:") || (!ownDefaultKeys(ctx, conn).includes(key) && !mayAccessKey(grants, key, "r", conn.enrollmentId))) throw denied(conn, key, "r");
    const stored = ctx.keystore.get(key);
    if (!stored || stored.value === null || !isActive(stored.meta)) throw new AtProtocolError("AT0015", `${key} does not exist in keystore`);
    return stored.value;
  }
  if (cmd.visibility === undefined) throw new AtProtocolError("AT0022", "keys:get needs a visibility (public, private, self) or keyName");
  const marker = { public: ".__public_keys.", private: ".__private_keys.", self: ".__self_keys." }[cmd.visibility];
  const prefix = cmd.visibility === "public" ? "public:" : cmd.visibility === "private" ? `private:${r.appName}.${r.deviceName}.` : `${r.appName}.${r.deviceName}.`;
  const names = ctx.keystore.keys().filter((k) => k.startsWith(prefix.toLowerCase()) && k.includes(marker) && mayAccessKey(grants, k, "r", conn.enrollmentId));
  if (cmd.visibility === "private") names.push(ownDefaultKeys(ctx, conn)[0]!);
  if (cmd.visibility === "self") names.push(ownDefaultKeys(ctx, conn)[1]!);
  return JSON.stringify(names);
}

function put(ctx: ServerContext, conn: Connection, r: EnrollmentRecord, cmd: KeysCommand): string {
  const { visibility, namespace, keyName } = cmd;
  if (!visibility || !namespace || !keyName) throw new AtProtocolError("AT0022", "keys:put needs a visibility, namespace and keyName");
  if (!KEY_NAME_RE.test(keyName)) throw new AtProtocolError("AT0022", `keyName ${keyName} may hold only letters, digits, _, - and .`);
  if (!isNamespaceAuthorized(grantsOf(conn), `x.${namespace.toLowerCase()}${ctx.atSign}`, "rw")) throw denied(conn, `keys in namespace ${namespace}`, "rw");
  const key = location(ctx, r, visibility, namespace, keyName);
  checkKeyLength(key);
  const value = JSON.stringify({
    value: cmd.keyValue ?? "",
    keyType: cmd.keyType ?? null,
    enrollmentId: conn.enrollmentId,
    encryptionKeyName: cmd.encryptionKeyName ?? null,
  });
  writeValue(ctx, key, value);
  return "-1";
}

function remove(ctx: ServerContext, conn: Connection, cmd: KeysCommand): string {
  if (cmd.keyName === undefined) throw new AtProtocolError("AT0022", "keys:delete needs keyName");
  const key = cmd.keyName.toLowerCase();
  if (!mayAccessKey(grantsOf(conn), key, "rw", conn.enrollmentId)) throw denied(conn, key, "rw");
  if (ctx.keystore.get(key)) ctx.keystore.remove(key);
  return "-1";
}

/** Handlers of the keys verb. */
export const keysHandlers: HandlerTable = {
  keys(ctx, conn, cmd) {
    const e = conn.enrollmentId === undefined ? null : readEnrollment(ctx, conn.enrollmentId);
    // The reference's answer on any connection that did not authenticate with an enrollment.
    if (!e) throw new AtProtocolError("AT0011", "keys verb requires an APKAM (enrollment) authenticated connection", { closes: false });
    switch (cmd.operation) {
      case "get":
        return data(get(ctx, conn, e.record, cmd));
      case "put":
        return data(put(ctx, conn, e.record, cmd));
      case "delete":
        return data(remove(ctx, conn, cmd));
    }
  },
};
