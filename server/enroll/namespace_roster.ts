/**
 * `enroll:listns:<ns>` (at_server 3.15: who holds a namespace) and `enroll:infons:<ns>` (facts about it:
 * `lastRevokedAt`). Both are for APKAM connections whose own enrollment holds at least `r` on the namespace;
 * a connection without an enrollment is AT0401, one without access AT0009.
 */
import { AtProtocolError } from "../../core/wire/index.ts";
import type { Connection } from "../connection.ts";
import type { ServerContext } from "../context.ts";
import { data, type Reply } from "../verbs/handler.ts";
import { illegal } from "./enroll_replies.ts";
import { listEnrollments, readEnrollment, type EnrollmentRecord } from "./enrollment_store.ts";

/** Longest namespace `listns`/`infons` take (the request namespaces' bound). */
const ROSTER_NAMESPACE_MAX_CHARS = 128;

/**
 * The access `record` has to `namespace` (`*`, the namespace itself, or a namespace it ends in), or null.
 * @example accessFor({ namespaces: { wavi: "r" } }, "phone.wavi") // "r"
 */
export function accessFor(record: Pick<EnrollmentRecord, "namespaces">, namespace: string): string | null {
  const ns = namespace.toLowerCase();
  for (const [grant, access] of Object.entries(record.namespaces)) {
    if (grant === "*" || grant === ns || ns.endsWith(`.${grant}`)) return access;
  }
  return null;
}

function gate(ctx: ServerContext, conn: Connection, namespace: string | undefined, op: string): string {
  if (!namespace) throw illegal(`namespace is required for enroll:${op}`);
  if (namespace.length > ROSTER_NAMESPACE_MAX_CHARS) throw illegal(`namespace is longer than ${ROSTER_NAMESPACE_MAX_CHARS} characters`);
  if (conn.enrollmentId === undefined) throw new AtProtocolError("AT0401", `enroll:${op} requires APKAM authentication`);
  const caller = readEnrollment(ctx, conn.enrollmentId);
  if (!caller || caller.status !== "approved") throw new AtProtocolError("AT0009", "Caller enrollment is not in approved state");
  if (accessFor(caller.record, namespace) === null) throw new AtProtocolError("AT0009", `Caller enrollment is not authorised for namespace "${namespace}"`);
  return namespace;
}

/** `enroll:listns`: `[{enrollmentId, access, metadata}]` of the approved enrollments with access to the namespace. */
export function listNamespace(ctx: ServerContext, conn: Connection, namespace: string | undefined): Reply {
  const ns = gate(ctx, conn, namespace, "listns");
  const members = listEnrollments(ctx).flatMap((e) => {
    const access = e.status === "approved" ? accessFor(e.record, ns) : null;
    return access === null ? [] : [{ enrollmentId: e.id, access, metadata: e.record.metadata ?? null }];
  });
  return data(JSON.stringify(members));
}

/** `enroll:infons`: `{"lastRevokedAt": <ISO 8601 or null>}` over the revoked enrollments that held the namespace. */
export function namespaceInfo(ctx: ServerContext, conn: Connection, namespace: string | undefined): Reply {
  const ns = gate(ctx, conn, namespace, "infons");
  let last: number | null = null;
  for (const e of listEnrollments(ctx)) {
    const at = e.record.revokedAt;
    if (e.status === "revoked" && at !== undefined && accessFor(e.record, ns) !== null && (last === null || at > last)) last = at;
  }
  return data(JSON.stringify({ lastRevokedAt: last === null ? null : new Date(last).toISOString() }));
}
