/**
 * `stats` (ATPROTOCOL.md §5.13).
 */
import type { CommandOf } from "./command.ts";
import { fail, parseInteger } from "./_syntax.ts";

const STATS_USAGE = "stats[:<id>[,<id>...]] | stats:3:<regex> | stats:15:<regex>";

/**
 * Parses `stats`, `stats:<id>[,<id>...]` (first id without a leading zero), or `stats:3:<regex>` /
 * `stats:15:<regex>`. `stats:` with no ids reads as plain `stats`.
 * @example parseStats("stats:3:.*wavi") // { verb: "stats", ids: [3], regex: ".*wavi" }
 */
export function parseStats(line: string): CommandOf<"stats"> {
  if (line === "stats" || line === "stats:") return { verb: "stats" };
  const body = line.startsWith("stats:") ? line.slice(6) : fail(STATS_USAGE);
  const withRegex = /^(3|15):(.+)$/.exec(body);
  if (withRegex) return { verb: "stats", ids: [Number(withRegex[1])], regex: withRegex[2] ?? "" };
  if (!/^([1-9]\d*)?(,\d+)*$/.test(body)) fail(STATS_USAGE);
  const ids = body
    .split(",")
    .filter((s) => s !== "")
    .map((s) => parseInteger(s, false) ?? fail(STATS_USAGE));
  return ids.length === 0 ? { verb: "stats" } : { verb: "stats", ids };
}

/**
 * Builds a stats line.
 * @example buildStats({ verb: "stats", ids: [1, 2] }) // "stats:1,2"
 */
export function buildStats(cmd: CommandOf<"stats">): string {
  if (!cmd.ids || cmd.ids.length === 0) return "stats";
  return `stats:${cmd.ids.join(",")}${cmd.regex === undefined ? "" : `:${cmd.regex}`}`;
}
