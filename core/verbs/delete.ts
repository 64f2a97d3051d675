/**
 * `delete` (ATPROTOCOL.md §5.6).
 */
import type { CommandOf } from "./command.ts";
import { after, eq, fail, ISO_TIMESTAMP, splitColons } from "./_syntax.ts";
import { keyRefText, plainKeyRef } from "./key_ref.ts";

const DELETE_USAGE =
  "delete[:dAt:<ISO 8601>][:nc][:force][:priority:low|medium|high][:cached][:public|:@<sharedWith>]:<key>[@<owner>]";
const PRIORITIES = ["low", "medium", "high"] as const;

/**
 * Parses `delete[:dAt:<time>][:nc][:force][:priority:<p>][:cached][:public|:@with]:<key>[@owner]`, the options
 * in that order (the reference's); `privatekey:at_secret` is the one key name allowed to hold a `:`.
 * @example parseDelete("delete:cached:@alice:phone@bob")
 *   // { verb: "delete", key: { cached: true, sharedWith: "@alice", name: "phone", owner: "@bob" } }
 */
export function parseDelete(line: string): CommandOf<"delete"> {
  const rest = after(line, "delete:") ?? fail(DELETE_USAGE);
  if (/\s/.test(rest)) fail(DELETE_USAGE);
  let tokens = splitColons(rest);
  const cmd: Partial<CommandOf<"delete">> = {};
  if (tokens.length > 2 && eq(tokens[0], "dAt")) {
    cmd.deletedAt = ISO_TIMESTAMP.test(tokens[1] ?? "") ? tokens[1] : fail(DELETE_USAGE);
    tokens = tokens.slice(2);
  }
  // A key may be named `nc` or `force` (`delete:force@alice`), so a flag needs a key token after it.
  for (const flag of ["nc", "force"] as const) {
    if (tokens.length > 1 && eq(tokens[0], flag)) {
      cmd[flag === "nc" ? "noCommit" : "force"] = true;
      tokens = tokens.slice(1);
    }
  }
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
  let out = "delete";
  if (cmd.deletedAt) out += `:dAt:${cmd.deletedAt}`;
  if (cmd.noCommit) out += ":nc";
  if (cmd.force) out += ":force";
  if (cmd.priority) out += `:priority:${cmd.priority}`;
  return `${out}:${keyRefText(cmd.key)}`;
}
