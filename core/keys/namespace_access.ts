/**
 * Namespace authorisation for APKAM connections (ATPROTOCOL.md §8.4).
 */
import type { VerbName } from "../verbs/command.ts";
import { isReservedKey } from "./reserved_keys.ts";
import { parseAtKey } from "./at_key.ts";

/** Access an enrollment grants to a namespace. */
export type NamespaceAccess = "r" | "rw";

/** An enrollment's grants, e.g. `{ "wavi": "rw", "buzz": "r" }`; `*` = every namespace; `__manage` = enroll/otp. */
export type NamespaceGrants = Readonly<Record<string, string>>;

/** The namespace that gates the enrollment verbs (enroll, otp) and self-notification monitors. */
export const MANAGE_NAMESPACE = "__manage";

/** Access each key-touching verb needs on the key's namespace. Verbs not listed are not namespace-checked. */
export const VERB_ACCESS: Readonly<Partial<Record<VerbName, NamespaceAccess>>> = {
  llookup: "r",
  lookup: "r",
  notifyFetch: "r",
  notifyStatus: "r",
  notifyList: "r",
  monitor: "r",
  update: "rw",
  updateMeta: "rw",
  delete: "rw",
  notify: "rw",
  notifyAll: "rw",
  notifyRemove: "rw",
};

function grantAllows(grant: string | undefined, need: NamespaceAccess): boolean {
  return grant === "rw" || (grant === "r" && need === "r");
}

/**
 * Whether an enrollment with `grants` may touch the stored key `key` with `need` access. `grants === null` is a
 * legacy PKAM/CRAM connection: full access. Reserved keys are always allowed. Otherwise the key's namespace,
 * or any dotted suffix of its name (`phone.buzz.wavi` -> `buzz.wavi`, `wavi`), must be granted, or `*`. Keys
 * without a namespace and keys in `__manage` need `*`.
 * @example isNamespaceAuthorized({ wavi: "r" }, "phone.wavi@alice", "r") // true
 * @example isNamespaceAuthorized({ wavi: "r" }, "phone.wavi@alice", "rw") // false
 */
export function isNamespaceAuthorized(grants: NamespaceGrants | null, key: string, need: NamespaceAccess): boolean {
  if (grants === null || isReservedKey(key)) return true;
  if (grantAllows(grants["*"], need)) return true;
  const parts = parseAtKey(key)?.name.split(".") ?? [];
  if (parts.length < 2 || parts[parts.length - 1] === MANAGE_NAMESPACE) return false;
  for (let i = 1; i < parts.length; i++) {
    if (grantAllows(grants[parts.slice(i).join(".")], need)) return true;
  }
  return false;
}

/**
 * Whether an enrollment may use the management verbs (enroll approve/deny/revoke..., otp:put): it needs
 * `__manage` with `need` access. Legacy connections (`null`) may.
 * @example hasManageAccess({ __manage: "rw", "*": "rw" }, "rw") // true
 */
export function hasManageAccess(grants: NamespaceGrants | null, need: NamespaceAccess): boolean {
  return grants === null || grantAllows(grants[MANAGE_NAMESPACE], need);
}
