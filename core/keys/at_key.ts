/**
 * atKey names (ATPROTOCOL.md §3.1): parse a full key into its parts, format it back, normalise it, and
 * classify it the way the reference does.
 *
 * Forms: `public:<name>@<owner>`, `<name>@<owner>` (self), `@<with>:<name>@<owner>` (shared),
 * `private:[@<with>:]<name>@<owner>`, `cached:public:<name>@<owner>`, `cached:@<with>:<name>@<owner>`,
 * `local:<name>@<owner>`, and `privatekey:<name>` (server-internal, no owner).
 */
import { AtProtocolError } from "../wire/at_protocol_error.ts";
import { MAX_CACHED_KEY_CHARS, MAX_KEY_CHARS } from "../wire/limits.ts";
import { atSignProblem } from "../atsign.ts";
import { EMOJI_CLASS } from "./_chars.ts";
import { isReservedKey } from "./reserved_keys.ts";

/** Who a key is for, from its prefix. */
export type KeyVisibility = "public" | "self" | "shared" | "private" | "privatekey" | "local";

/** A parsed key. Parts keep the case of the input; run `normalizeKey` first for the stored form. */
export interface AtKey {
  visibility: KeyVisibility;
  /** `cached:` prefix: a copy of another @sign's key, written only by the server. */
  cached: boolean;
  /** One of the well-known keys of §3.3 (always authorised for APKAM connections). */
  reserved: boolean;
  /** The name starts with `_` (left out of scan unless showhidden). */
  hidden: boolean;
  /** `@bob` for shared (and shared-with-self) keys. */
  sharedWith?: string;
  /** The entity, e.g. `phone.wavi`; for `privatekey:at_secret` it is `at_secret`. */
  name: string;
  /** Text after the last `.` of the name, e.g. `wavi`. */
  namespace?: string;
  /** `@alice`; absent only for `privatekey:` keys. */
  owner?: string;
}

/** The reference's key types (at_commons KeyType), in its detection order. */
export type KeyType =
  | "reserved"
  | "public"
  | "private"
  | "self"
  | "shared"
  | "cachedPublic"
  | "cachedShared"
  | "local"
  | "invalid";

// The reference entity: word characters, `.`, `-`, `'`, `*`, `"` or emoji. @sign bodies follow core/atsign.
const ENTITY = new RegExp(String.raw`^[\w.\-'*"${EMOJI_CLASS}]+$`, "u");
const NAMESPACE = /^\w+$/;
// atSignProblem tolerates a leading `@`; inside a key that would be a second `@`, so refuse it here.
const isAtSignBody = (body: string) => !body.startsWith("@") && atSignProblem(body) === null;

/**
 * The stored form of a key: trimmed, spaces removed, lower-cased (the reference keystore does the same, so
 * `Phone.Wavi@Alice` and `phone.wavi@alice` are one key).
 * @example normalizeKey(" @Bob:Phone.Wavi@Alice") // "@bob:phone.wavi@alice"
 */
export function normalizeKey(raw: string): string {
  return raw.trim().replaceAll(" ", "").toLowerCase();
}

/**
 * Parses a full key, or returns null when it has none of the forms above.
 * @example parseAtKey("@bob:phone.wavi@alice")
 *   // { visibility: "shared", cached: false, reserved: false, hidden: false, sharedWith: "@bob",
 *   //   name: "phone.wavi", namespace: "wavi", owner: "@alice" }
 */
export function parseAtKey(full: string): AtKey | null {
  const reserved = isReservedKey(full);
  const lower = full.toLowerCase();
  if (lower.startsWith("privatekey:")) {
    const name = full.slice("privatekey:".length);
    if (name.length === 0 || !ENTITY.test(name)) return null;
    return { visibility: "privatekey", cached: false, reserved, hidden: name.startsWith("_"), name };
  }
  let rest = full;
  const cached = lower.startsWith("cached:");
  if (cached) rest = rest.slice("cached:".length);
  let visibility: KeyVisibility = "self";
  for (const prefix of ["public", "private", "local"] as const) {
    if (rest.toLowerCase().startsWith(prefix + ":")) {
      visibility = prefix;
      rest = rest.slice(prefix.length + 1);
      break;
    }
  }
  let sharedWith: string | undefined;
  if (rest.startsWith("@") && (visibility === "self" || visibility === "private")) {
    const colon = rest.indexOf(":");
    const body = colon === -1 ? "" : rest.slice(1, colon);
    if (!isAtSignBody(body)) return null;
    sharedWith = "@" + body;
    rest = rest.slice(colon + 1);
  }
  const at = rest.indexOf("@");
  if (at === -1) return null;
  const name = rest.slice(0, at);
  const ownerBody = rest.slice(at + 1);
  if (!ENTITY.test(name) || !isAtSignBody(ownerBody)) return null;
  const owner = "@" + ownerBody;
  if (visibility === "self" && sharedWith !== undefined && sharedWith.toLowerCase() !== owner.toLowerCase()) {
    visibility = "shared";
  }
  const dot = name.lastIndexOf(".");
  const namespace = dot === -1 ? undefined : name.slice(dot + 1);
  return {
    visibility,
    cached,
    reserved,
    hidden: name.startsWith("_"),
    ...(sharedWith === undefined ? {} : { sharedWith }),
    name,
    ...(namespace !== undefined && NAMESPACE.test(namespace) ? { namespace } : {}),
    owner,
  };
}

/**
 * Writes a parsed key back as its full name (`formatAtKey(parseAtKey(k)!) === k` for every valid k).
 * @example formatAtKey({ visibility: "public", cached: true, reserved: true, hidden: false, name: "publickey", owner: "@bob" })
 *   // "cached:public:publickey@bob"
 */
export function formatAtKey(k: AtKey): string {
  if (k.visibility === "privatekey") return `privatekey:${k.name}`;
  let out = k.cached ? "cached:" : "";
  if (k.visibility === "public" || k.visibility === "private" || k.visibility === "local") out += `${k.visibility}:`;
  if (k.sharedWith !== undefined) out += `${k.sharedWith}:`;
  return `${out}${k.name}${k.owner ?? ""}`;
}

/**
 * The reference's classification of a full key (reserved first, by partial match; then the shapes).
 * @example keyType("@alice:phone@alice") // "self" (shared with oneself)
 */
export function keyType(full: string): KeyType {
  if (isReservedKey(full)) return "reserved";
  const k = parseAtKey(full);
  if (!k) return "invalid";
  if (k.cached) {
    if (k.visibility === "public") return "cachedPublic";
    if (k.visibility === "shared" || (k.visibility === "self" && k.sharedWith !== undefined)) return "cachedShared";
    return "invalid";
  }
  return k.visibility === "privatekey" ? "invalid" : k.visibility;
}

/**
 * Throws AT0016 when a key is longer than the reference allows: 248 characters, or 255 for `cached:` keys.
 * @example checkKeyLength("phone@alice") // ok; checkKeyLength("x".repeat(300)) throws
 */
export function checkKeyLength(full: string): void {
  const max = full.toLowerCase().startsWith("cached:") ? MAX_CACHED_KEY_CHARS : MAX_KEY_CHARS;
  if (full.length > max) {
    throw new AtProtocolError("AT0016", `Key length exceeds maximum limit of ${max} characters: ${full.length}`);
  }
}

/** Key types a client may write with update / update:meta (§5.4). */
const UPDATABLE: ReadonlySet<KeyType> = new Set(["self", "shared", "public", "reserved"]);

/**
 * Checks a key a client wants to update on the server of `ownAtSign` and returns its stored form. Throws AT0016
 * for keys of another owner, of a type clients may not write (private, cached, local, invalid) or too long.
 * @example checkUpdatableKey("@Bob:Phone@Alice", "@alice") // "@bob:phone@alice"
 */
export function checkUpdatableKey(raw: string, ownAtSign: string): string {
  const key = normalizeKey(raw);
  checkKeyLength(key);
  const type = keyType(key);
  if (!UPDATABLE.has(type)) throw new AtProtocolError("AT0016", `You may not update keys of type ${type}: ${key}`);
  const owner = parseAtKey(key)?.owner;
  if (owner !== undefined && owner !== ownAtSign.toLowerCase()) {
    throw new AtProtocolError("AT0016", `Invalid key ${key}: the owner ${owner} is not ${ownAtSign.toLowerCase()}`);
  }
  return key;
}
