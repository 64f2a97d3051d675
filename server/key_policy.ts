/**
 * The server's glue to core/keys: the stored name of a parsed key reference, and client regexes. The rules
 * themselves (types, protection, visibility, sync) live in core/keys.
 */
import { normalizeAtSign } from "../core/atsign.ts";
import { normalizeKey } from "../core/keys/index.ts";
import type { KeyRef } from "../core/verbs/command.ts";
import { keyRefText } from "../core/verbs/index.ts";
import { AtProtocolError } from "../core/wire/index.ts";
import { compileLinearRegex, RegexSyntaxError, type LinearRegex } from "../core/linear_regex/index.ts";

/**
 * The stored (lower-cased) name of a key reference. A missing owner means the server's own @sign, except for
 * the owner-less `privatekey:` names. An owner that is not a valid @sign is AT0016.
 * @example storageKey({ sharedWith: "@Bob", name: "Phone", owner: "@alice" }, "@alice") // "@bob:phone@alice"
 */
export function storageKey(ref: KeyRef, atSign: string): string {
  if (ref.name.toLowerCase().startsWith("privatekey:")) return normalizeKey(ref.name);
  try {
    const owner = normalizeAtSign(ref.owner ?? atSign);
    const sharedWith = ref.sharedWith === undefined ? undefined : normalizeAtSign(ref.sharedWith);
    return normalizeKey(keyRefText({ ...ref, sharedWith, owner }));
  } catch (err) {
    throw new AtProtocolError("AT0016", (err as Error).message);
  }
}

/**
 * Compiles a client regex (contains-semantics, as Dart's hasMatch) for the linear-time engine. Invalid or
 * needing backtracking (backreferences, lookaround) → AT0003; over the engine's size limits → AT0022.
 * @example clientRegex("\\.wavi").test("phone.wavi@alice") // true
 */
export function clientRegex(source: string): LinearRegex {
  try {
    return compileLinearRegex(source);
  } catch (err) {
    if (!(err instanceof RegexSyntaxError)) throw err;
    if (err.kind === "tooLarge") throw new AtProtocolError("AT0022", `The regex is too large for this server: ${err.message}`);
    const why = err.kind === "invalid" ? "is not a valid regular expression" : "needs a construct this server does not run (regexes run in linear time)";
    throw new AtProtocolError("AT0003", `Invalid syntax. ${source} ${why}: ${err.message}`);
  }
}
