/**
 * Which keys the commit log records and which always reach a syncing client (ATPROTOCOL.md §7.1, §7.2).
 */
import { isReservedKey } from "./reserved_keys.ts";

/**
 * False for keys whose writes get commit id -1 and never appear in the commit log: `private:`, `privatekey:`,
 * `public:_` (but `public:__` is committed), `local:`. Takes the stored (lower-case) key.
 * @example isCommittedKey("public:_pol@alice") // false
 * @example isCommittedKey("public:__app@alice") // true
 */
export function isCommittedKey(key: string): boolean {
  if (key.startsWith("private:") || key.startsWith("privatekey:") || key.startsWith("local:")) return false;
  return !(key.startsWith("public:_") && !key.startsWith("public:__"));
}

/**
 * True for keys sync:from and stats:3 include whatever the client's regex: reserved `shared_key` keys,
 * keys starting `public:publickey`, and `public:` keys whose name has no `.` (no namespace).
 * @example alwaysSyncs("@bob:shared_key@alice") // true
 * @example alwaysSyncs("public:phone.wavi@alice") // false
 */
export function alwaysSyncs(key: string): boolean {
  if (key.includes("shared_key") && isReservedKey(key)) return true;
  if (key.startsWith("public:publickey")) return true;
  if (!key.startsWith("public:")) return false;
  const at = key.lastIndexOf("@");
  return !key.slice("public:".length, at === -1 ? undefined : at).includes(".");
}
