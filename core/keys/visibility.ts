/**
 * Who may see which stored key (ATPROTOCOL.md §3.2, §5.8), as pure functions over the stored (lower-case) key
 * and the connection's auth state. APKAM namespace limits come on top (namespace_access.ts).
 */
import type { AuthState } from "../wire/responses.ts";
import { normalizeAtSign } from "../atsign.ts";

/**
 * Whether a connection may read the stored key `key` at all:
 * - unauthenticated: `public:` keys only (hidden ones too: the pol proof `public:_<session>@me` is read so);
 * - the owner: everything except `privatekey:` keys (the CRAM secret lives there);
 * - pol-authenticated as @bob: keys shared with @bob (`@bob:...`) and `public:` keys.
 * @example canRead({ auth: "pol", atSign: "@bob" }, "@bob:phone@alice") // true
 * @example canRead({ auth: "none" }, "phone@alice") // false
 */
export function canRead(state: AuthState, key: string): boolean {
  if (key.startsWith("public:")) return true;
  switch (state.auth) {
    case "none":
      return false;
    case "owner":
      return !key.startsWith("privatekey:");
    case "pol":
      return key.startsWith(`${state.atSign.toLowerCase()}:`);
  }
}

/** Where a `lookup:<name>@<atSign>` is served from. */
export type LookupTarget =
  /** Read this stored key on this server. */
  | { kind: "local"; key: string }
  /**
   * Ask `atSign`'s server with `lookup:all:<name>@<atSign>` (over pol when `authenticated`), using and
   * refreshing the cached copy `cacheKey`.
   */
  | { kind: "remote"; atSign: string; name: string; cacheKey: string; authenticated: boolean };

/**
 * Resolves `lookup:<name>@<atSign>` (or `plookup` when `publicOnly`) on the server of `ownAtSign` (§3.2 table).
 * Returns null for a plookup/lookup of another @sign on a connection that is not the owner's.
 * @example lookupTarget({ auth: "owner", atSign: "@alice" }, "@alice", "phone", "@alice", false)
 *   // { kind: "local", key: "@alice:phone@alice" }
 * @example lookupTarget({ auth: "owner", atSign: "@alice" }, "@alice", "phone", "@bob", false)
 *   // { kind: "remote", atSign: "@bob", name: "phone", cacheKey: "cached:@alice:phone@bob", authenticated: true }
 */
export function lookupTarget(
  state: AuthState,
  ownAtSign: string,
  name: string,
  atSign: string,
  publicOnly: boolean,
): LookupTarget | null {
  const me = normalizeAtSign(ownAtSign);
  const them = atSign.toLowerCase();
  const n = name.toLowerCase();
  if (publicOnly) {
    if (state.auth !== "owner") return null;
    return them === me
      ? { kind: "local", key: `public:${n}${me}` }
      : { kind: "remote", atSign: them, name: n, cacheKey: `cached:public:${n}${them}`, authenticated: false };
  }
  switch (state.auth) {
    case "none":
      return { kind: "local", key: `public:${n}${them}` };
    case "pol":
      return { kind: "local", key: `${state.atSign.toLowerCase()}:${n}${them}` };
    case "owner":
      return them === me
        ? { kind: "local", key: `${me}:${n}${me}` }
        : { kind: "remote", atSign: them, name: n, cacheKey: `cached:${me}:${n}${them}`, authenticated: true };
  }
}

/**
 * How a stored key appears in a `scan` answer for this connection, or null when it is left out (§5.8):
 * unauthenticated sees `public:` keys without the prefix (not `public:_`); the owner sees everything but
 * `private:`, `privatekey:`, `public:_` and `_` keys (`showHidden` brings back `public:__` and `_`); a pol
 * connection as @bob sees `@bob:` keys with that prefix removed.
 * @example scanName({ auth: "none" }, "public:location.wavi@alice", false) // "location.wavi@alice"
 * @example scanName({ auth: "owner", atSign: "@alice" }, "_secret@alice", false) // null
 */
export function scanName(state: AuthState, key: string, showHidden: boolean): string | null {
  switch (state.auth) {
    case "none":
      return key.startsWith("public:") && !key.startsWith("public:_") ? key.slice("public:".length) : null;
    case "pol": {
      const prefix = `${state.atSign.toLowerCase()}:`;
      return key.startsWith(prefix) ? key.slice(prefix.length) : null;
    }
    case "owner":
      if (key.startsWith("private:") || key.startsWith("privatekey:")) return null;
      if (key.startsWith("public:__") || key.startsWith("_")) return showHidden ? key : null;
      return key.startsWith("public:_") ? null : key;
  }
}
