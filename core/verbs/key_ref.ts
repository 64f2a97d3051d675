/**
 * The key part shared by update, update:meta, delete and llookup: `[cached:][public:|@with:]name[@owner]`.
 */
import type { KeyRef } from "./command.ts";
import { eq, isEntity, splitPlainKey } from "./_syntax.ts";

/**
 * Writes a KeyRef back as the full key text.
 * @example keyRefText({ sharedWith: "@bob", name: "phone", owner: "@alice" }) // "@bob:phone@alice"
 */
export function keyRefText(ref: KeyRef): string {
  let out = ref.cached ? "cached:" : "";
  if (ref.isPublic) out += "public:";
  else if (ref.sharedWith) out += `${ref.sharedWith}:`;
  return out + ref.name + (ref.owner ?? "");
}

/**
 * Reads a scope token (`public` or `@bob`) into `ref`; false when the token is neither.
 * @example applyScope(ref, "@bob") // ref.sharedWith === "@bob"
 */
export function applyScope(ref: Partial<KeyRef>, token: string): boolean {
  if (eq(token, "public")) {
    ref.isPublic = true;
    return true;
  }
  if (token.startsWith("@") && isEntity(token.slice(1))) {
    ref.sharedWith = token;
    return true;
  }
  return false;
}

/**
 * Parses the tokens `[scope,] name[@owner]` (already split on `:`) of update/delete keys, where a name has no
 * `:` except the reserved `privatekey:<reserved>` names listed in `reservedNames`. Returns null on mismatch.
 * @example plainKeyRef(["@bob", "phone@alice"], []) // { sharedWith: "@bob", name: "phone", owner: "@alice" }
 */
export function plainKeyRef(tokens: readonly string[], reservedNames: readonly string[]): KeyRef | null {
  if (tokens.length === 2 && eq(tokens[0], "privatekey") && reservedNames.some((r) => eq(tokens[1], r))) {
    return { name: `${tokens[0]}:${tokens[1]}` };
  }
  const ref: Partial<KeyRef> = {};
  if (tokens.length === 2 && !applyScope(ref, tokens[0] ?? "")) return null;
  if (tokens.length < 1 || tokens.length > 2) return null;
  const key = splitPlainKey(tokens[tokens.length - 1] ?? "");
  if (!key) return null;
  return { ...ref, name: key.name, ...(key.atSign === undefined ? {} : { owner: key.atSign }) };
}
