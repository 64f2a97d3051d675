/**
 * `delete` (ATPROTOCOL.md §5.6).
 */
import type { CommandOf } from "./command.ts";
import { after, fail } from "./_syntax.ts";
import { keyRefText, plainKeyRef } from "./key_ref.ts";

const DELETE_USAGE = "delete[:priority:low|medium|high][:cached][:public|:@<sharedWith>]:<key>[@<owner>]";
const PRIORITIES = ["low", "medium", "high"] as const;

/**
 * Parses `delete[:priority:<p>][:cached][:public|:@with]:<key>[@owner]`; `privatekey:at_secret` is the one
 * key name allowed to hold a `:`.
 * @example parseDelete("delete:cached:@alice:phone@bob")
 *   // { verb: "delete", key: { cached: true, sharedWith: "@alice", name: "phone", owner: "@bob" } }
 */
export function parseDelete(line: string): CommandOf<"delete"> {
  const rest = after(line, "delete:") ?? fail(DELETE_USAGE);
  if (/\s/.test(rest)) fail(DELETE_USAGE);
  let tokens = rest.split(":");
  const cmd: Partial<CommandOf<"delete">> = {};
  if (tokens.length > 2 && tokens[0]?.toLowerCase() === "priority") {
    cmd.priority = PRIORITIES.find((p) => p === tokens[1]?.toLowerCase()) ?? fail(DELETE_USAGE);
    tokens = tokens.slice(2);
  }
  let cached = false;
  if (tokens.length > 1 && tokens[0]?.toLowerCase() === "cached") {
    cached = true;
    tokens = tokens.slice(1);
  }
  const key = plainKeyRef(tokens, ["at_secret"]) ?? fail(DELETE_USAGE);
  return { verb: "delete", ...cmd, key: cached ? { cached: true, ...key } : key };
}

/**
 * Builds a delete line.
 * @example buildDelete({ verb: "delete", key: { isPublic: true, name: "x", owner: "@a" } }) // "delete:public:x@a"
 */
export function buildDelete(cmd: CommandOf<"delete">): string {
  return `delete${cmd.priority ? `:priority:${cmd.priority}` : ""}:${keyRefText(cmd.key)}`;
}
