/**
 * The answers and refusals the enroll operations share (server/verbs/enroll.ts and the modules of the
 * 3.15/3.16 operations), in the reference's codes: AT0022 for bad parameters, AT0011 for enrollment refusals
 * (connection stays open), AT0009 for grants that do not reach.
 */
import { MANAGE_NAMESPACE, type NamespaceGrants } from "../../core/keys/index.ts";
import { AtProtocolError } from "../../core/wire/index.ts";
import { data, type Reply } from "../verbs/handler.ts";

/** A parameter the operation cannot take (the reference's IllegalArgumentException). */
export const illegal = (message: string) => new AtProtocolError("AT0022", message);
/** Enrollment errors that leave the connection open (the reference's AT0011 for these). */
export const refused = (message: string) => new AtProtocolError("AT0011", message, { closes: false });

/** `{"status":…,"enrollmentId":…}` plus extra fields. */
export const statusReply = (status: string, id: string, extra: Record<string, unknown> = {}): Reply => data(JSON.stringify({ status, enrollmentId: id, ...extra }));

const allows = (grant: string | undefined, need: string) => grant === "rw" || (grant === "r" && need === "r");

/**
 * Whether `holder`'s grants (null: a connection without an enrollment, which holds everything) cover every
 * namespace of `requested` with at least its access. `*` covers ordinary namespaces; `*` and `__manage`
 * themselves must be held by name.
 * @example covers({ "*": "rw" }, { wavi: "r" }) // true
 * @example covers({ "*": "rw" }, { __manage: "r" }) // false
 */
export function covers(holder: NamespaceGrants | null, requested: Record<string, string>): boolean {
  if (holder === null) return true;
  return Object.entries(requested).every(([ns, need]) =>
    ns === MANAGE_NAMESPACE || ns === "*" ? allows(holder[ns], need) : allows(holder[ns], need) || allows(holder["*"], need),
  );
}
