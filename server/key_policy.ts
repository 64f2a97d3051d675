/**
 * The server's rules for key names (ATPROTOCOL.md §3, §5.4, §5.6, §5.8, §7.2): which key a request names,
 * which keys a client may write or delete, what scan shows to whom, and which keys always sync.
 */
import { normalizeAtSign } from "../core/atsign.ts";
import type { KeyRef } from "../core/verbs/command.ts";
import { keyRefText } from "../core/verbs/key_ref.ts";
import { AtProtocolError, MAX_CACHED_KEY_CHARS, MAX_KEY_CHARS } from "../core/wire/index.ts";

/**
 * The stored (lower-cased) name of a key reference. A missing owner means the server's own @sign, except for
 * the owner-less `privatekey:` names. An owner that is not a valid @sign is AT0016.
 * @example storageKey({ sharedWith: "@Bob", name: "Phone", owner: "@alice" }, "@alice") // "@bob:phone@alice"
 */
export function storageKey(ref: KeyRef, atSign: string): string {
  if (ref.name.toLowerCase().startsWith("privatekey:")) return ref.name.toLowerCase();
  let owner = atSign;
  let sharedWith = ref.sharedWith;
  try {
    if (ref.owner !== undefined) owner = normalizeAtSign(ref.owner);
    if (sharedWith !== undefined) sharedWith = normalizeAtSign(sharedWith);
  } catch (err) {
    throw new AtProtocolError("AT0016", (err as Error).message);
  }
  return keyRefText({ ...ref, sharedWith, owner }).toLowerCase();
}

/** Throws AT0016 when `key` is longer than the reference allows (248 characters, 255 for `cached:` keys). */
export function checkKeyLength(key: string): void {
  const max = key.startsWith("cached:") ? MAX_CACHED_KEY_CHARS : MAX_KEY_CHARS;
  if (key.length > max) throw new AtProtocolError("AT0016", `key ${key.slice(0, 40)}... is longer than ${max} characters`);
}

/** The owner part of a stored key (`@alice` of `public:x@alice`), or null for owner-less keys. */
export function keyOwner(key: string): string | null {
  const at = key.lastIndexOf("@");
  return at <= 0 || key[at - 1] === ":" ? null : key.slice(at);
}

/** Keys a client may create with `update` (ATPROTOCOL.md §5.4): self, shared, public and the PKAM key. */
export function checkUpdatable(key: string, atSign: string): void {
  checkKeyLength(key);
  if (key === "privatekey:at_pkam_publickey") return;
  for (const prefix of ["private:", "privatekey:", "cached:", "local:"]) {
    if (key.startsWith(prefix)) throw new AtProtocolError("AT0016", `You may not update keys of type ${prefix.slice(0, -1)}`);
  }
  const owner = keyOwner(key);
  if (owner !== atSign) throw new AtProtocolError("AT0016", `Invalid key: ${key} does not belong to ${atSign}`);
}

/**
 * Keys `delete` refuses (the reference's protected list, compared on `name@owner` before any scope prefix)
 * → AT0009.
 */
export function checkDeletable(ref: KeyRef, key: string, atSign: string): void {
  const bare = ref.cached ? "" : `${ref.name}${ref.owner ?? atSign}`.toLowerCase();
  const isProtected =
    bare === `signing_publickey${atSign}` || bare === `signing_privatekey${atSign}` || bare === `publickey${atSign}` || key.endsWith("at_pkam_publickey");
  if (isProtected) throw new AtProtocolError("AT0009", `${key} is protected and cannot be deleted`);
}

/** Whether an owner scan lists `key` (hidden keys only with showhidden). */
export function ownerScanShows(key: string, showHidden: boolean): boolean {
  if (key.startsWith("private:") || key.startsWith("privatekey:")) return false;
  if (key.startsWith("public:_")) return showHidden && key.startsWith("public:__");
  if (key.startsWith("_")) return showHidden;
  return true;
}

/** What an unauthenticated scan lists for `key`: the name without `public:`, or null when hidden from it. */
export function publicScanName(key: string, atSign: string): string | null {
  if (!key.startsWith("public:") || key.startsWith("public:_") || !key.endsWith(atSign)) return null;
  return key.slice("public:".length);
}

/** Keys every sync carries whatever its regex (§7.2): shared-key records, the public key, dot-less public keys. */
export function isAlwaysSynced(key: string): boolean {
  return key.includes("shared_key") || key.startsWith("public:publickey") || (key.startsWith("public:") && !key.includes("."));
}

/**
 * Compiles a client regex (contains-semantics, as Dart's hasMatch). Invalid → AT0003.
 * @example clientRegex("\\.wavi").test("phone.wavi@alice") // true
 */
export function clientRegex(source: string): RegExp {
  try {
    return new RegExp(source);
  } catch {
    throw new AtProtocolError("AT0003", `Invalid syntax. ${source} is not a valid regular expression`);
  }
}
