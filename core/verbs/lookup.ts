/**
 * `llookup`, `lookup` and `plookup` (ATPROTOCOL.md §5.7).
 */
import type { CommandOf, KeyRef, LookupOperation } from "./command.ts";
import { after, fail, isEntity, parseBool } from "./_syntax.ts";
import { applyScope, keyRefText } from "./key_ref.ts";

const LLOOKUP_USAGE = "llookup[:meta|:all][:cached][:public|:@<sharedWith>]:<key>@<owner>";
const LOOKUP_USAGE = "lookup[:bypassCache:true|false][:meta|:all]:<key>@<atSign>";
const PLOOKUP_USAGE = "plookup[:bypassCache:true|false][:meta|:all]:<key>@<atSign>";

/**
 * Parses `llookup[:meta|:all][:cached][:public|:@with]:<name>@<owner>`. Each option counts only when a `:`
 * follows it, so a key literally named `meta` still parses as a key.
 * @example parseLlookup("llookup:all:cached:public:publickey@bob")
 *   // { verb: "llookup", operation: "all", key: { cached: true, isPublic: true, name: "publickey", owner: "@bob" } }
 */
export function parseLlookup(line: string): CommandOf<"llookup"> {
  let rest = after(line, "llookup:") ?? fail(LLOOKUP_USAGE);
  const cmd: { operation?: LookupOperation } = {};
  const ref: Partial<KeyRef> = {};
  const op = /^(meta|all):/i.exec(rest);
  if (op) {
    cmd.operation = (op[1] ?? "").toLowerCase() as LookupOperation;
    rest = rest.slice(op[0].length);
  }
  const cached = after(rest, "cached:");
  if (cached !== null) {
    ref.cached = true;
    rest = cached;
  }
  const scope = /^(public|@[^:@\s]+):/i.exec(rest);
  if (scope && applyScope(ref, scope[1] ?? "")) rest = rest.slice(scope[0].length);
  // atKey: first char not `:`, no `@`, no `::`; then `@<atSign>` to the end. The reference wants two or more
  // characters; we also accept one-character keys, which update can create.
  const at = rest.indexOf("@");
  const name = at === -1 ? "" : rest.slice(0, at);
  const owner = at === -1 ? "" : rest.slice(at + 1);
  if (name.length === 0 || name.startsWith(":") || name.includes("::") || !isEntity(owner)) fail(LLOOKUP_USAGE);
  return { verb: "llookup", ...cmd, key: { ...ref, name, owner: "@" + owner } };
}

/**
 * Builds an llookup line.
 * @example buildLlookup({ verb: "llookup", operation: "meta", key: { name: "x", owner: "@a" } }) // "llookup:meta:x@a"
 */
export function buildLlookup(cmd: CommandOf<"llookup">): string {
  return `llookup${cmd.operation ? `:${cmd.operation}` : ""}:${keyRefText(cmd.key)}`;
}

type RemoteLookup = CommandOf<"lookup"> | CommandOf<"plookup">;

function parseRemote<V extends "lookup" | "plookup">(line: string, verb: V, usage: string): CommandOf<V> {
  let rest = after(line, `${verb}:`) ?? fail(usage);
  const opts: { bypassCache?: boolean; operation?: LookupOperation } = {};
  // Options in either order (the reference wants bypassCache first; accepting both costs nothing).
  for (let round = 0; round < 2; round++) {
    const bypass = /^bypassCache:(true|false):/i.exec(rest);
    if (bypass && opts.bypassCache === undefined) {
      opts.bypassCache = parseBool(bypass[1] ?? "") ?? false;
      rest = rest.slice(bypass[0].length);
      continue;
    }
    const op = /^(meta|all):/i.exec(rest);
    if (op && opts.operation === undefined) {
      opts.operation = (op[1] ?? "").toLowerCase() as LookupOperation;
      rest = rest.slice(op[0].length);
    }
  }
  // The @sign is what follows the LAST `@`; everything before it is the key name.
  const at = rest.lastIndexOf("@");
  const name = at === -1 ? "" : rest.slice(0, at);
  const atSign = at === -1 ? "" : rest.slice(at + 1);
  if (!isEntity(atSign)) fail(usage);
  if (verb === "lookup" ? name.length === 0 || name.startsWith(":") : !/^[^@\s]+$/.test(name)) fail(usage);
  return { verb, ...opts, name, atSign: "@" + atSign } as CommandOf<V>;
}

/**
 * Parses `lookup[:bypassCache:<b>][:meta|:all]:<name>@<atSign>`.
 * @example parseLookup("lookup:all:phone@bob") // { verb: "lookup", operation: "all", name: "phone", atSign: "@bob" }
 */
export function parseLookup(line: string): CommandOf<"lookup"> {
  return parseRemote(line, "lookup", LOOKUP_USAGE);
}

/**
 * Parses `plookup[:bypassCache:<b>][:meta|:all]:<name>@<atSign>`.
 * @example parsePlookup("plookup:bypassCache:true:publickey@bob")
 *   // { verb: "plookup", bypassCache: true, name: "publickey", atSign: "@bob" }
 */
export function parsePlookup(line: string): CommandOf<"plookup"> {
  return parseRemote(line, "plookup", PLOOKUP_USAGE);
}

/**
 * Builds a lookup or plookup line.
 * @example buildLookup({ verb: "lookup", name: "publickey", atSign: "@alice" }) // "lookup:publickey@alice"
 */
export function buildLookup(cmd: RemoteLookup): string {
  let out = cmd.verb;
  if (cmd.bypassCache !== undefined) out += `:bypassCache:${cmd.bypassCache}`;
  if (cmd.operation) out += `:${cmd.operation}`;
  return `${out}:${cmd.name}${cmd.atSign}`;
}

