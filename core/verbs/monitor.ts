/**
 * `monitor` (ATPROTOCOL.md §5.11).
 */
import type { CommandOf } from "./command.ts";
import { eq, fail, parseInteger } from "./_syntax.ts";

const MONITOR_USAGE = "monitor[:strict][:selfNotifications][:multiplexed][:<epochMillis>][ <regex>]";

/**
 * Parses `monitor[:strict][:selfNotifications][:multiplexed][:<epochMillis>][ <regex>]`, flags in any order.
 * `selfNotifications:enable` / `:disable` (an older at_commons form) are accepted too.
 * @example parseMonitor("monitor:selfNotifications:1700000000000 .*wavi")
 *   // { verb: "monitor", selfNotifications: true, epochMillis: 1700000000000, regex: ".*wavi" }
 */
export function parseMonitor(line: string): CommandOf<"monitor"> {
  if (!line.startsWith("monitor")) fail(MONITOR_USAGE);
  const rest = line.slice("monitor".length);
  const space = rest.indexOf(" ");
  const opts = space === -1 ? rest : rest.slice(0, space);
  const cmd: CommandOf<"monitor"> = { verb: "monitor" };
  if (space !== -1) {
    const regex = rest.slice(space + 1);
    if (regex.length === 0) fail(MONITOR_USAGE);
    cmd.regex = regex;
  }
  if (opts === "") return cmd;
  if (!opts.startsWith(":")) fail(MONITOR_USAGE);
  const tokens = opts.slice(1).split(":");
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i] ?? "";
    if (eq(t, "strict")) cmd.strict = true;
    else if (eq(t, "multiplexed")) cmd.multiplexed = true;
    else if (eq(t, "selfNotifications")) {
      const next = tokens[i + 1];
      if (eq(next, "enable")) i++;
      else if (eq(next, "disable")) {
        i++;
        continue;
      }
      cmd.selfNotifications = true;
    } else if (cmd.epochMillis === undefined && /^\d+$/.test(t)) {
      cmd.epochMillis = parseInteger(t, false) ?? fail(MONITOR_USAGE);
    } else fail(MONITOR_USAGE);
  }
  return cmd;
}

/**
 * Builds a monitor line in the reference order.
 * @example buildMonitor({ verb: "monitor", selfNotifications: true, regex: ".*" }) // "monitor:selfNotifications .*"
 */
export function buildMonitor(cmd: CommandOf<"monitor">): string {
  let out = "monitor";
  if (cmd.strict) out += ":strict";
  if (cmd.selfNotifications) out += ":selfNotifications";
  if (cmd.multiplexed) out += ":multiplexed";
  if (cmd.epochMillis !== undefined) out += `:${cmd.epochMillis}`;
  return cmd.regex === undefined ? out : `${out} ${cmd.regex}`;
}
