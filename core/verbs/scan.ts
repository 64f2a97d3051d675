/**
 * `scan` (ATPROTOCOL.md §5.8).
 */
import type { CommandOf } from "./command.ts";
import { eq, fail, isEntity, parseBool, parseInteger } from "./_syntax.ts";

const SCAN_USAGE = "scan[:cl][:showhidden:true|false][:@<atSign>][:page:<n>][ <regex>]";

/**
 * Parses `scan[:showhidden:<b>][:@forAtSign][:page:<n>][ <regex>]`, options in any order, names in any case
 * (at_python sends `showHidden`). The regex is one run of non-space characters. Note the §2.3 quirk is applied
 * before this: `scan Wavi` (no colon) arrives here as `scan wavi`.
 * @example parseScan("scan:showhidden:true .*wavi") // { verb: "scan", showHidden: true, regex: ".*wavi" }
 */
export function parseScan(line: string): CommandOf<"scan"> {
  if (!line.startsWith("scan")) fail(SCAN_USAGE);
  const rest = line.slice(4);
  const space = rest.indexOf(" ");
  const opts = space === -1 ? rest : rest.slice(0, space);
  const cmd: CommandOf<"scan"> = { verb: "scan" };
  if (space !== -1) {
    const regex = rest.slice(space + 1);
    if (!/^\S+$/.test(regex)) fail(SCAN_USAGE);
    cmd.regex = regex;
  }
  if (opts === "") return cmd;
  if (!opts.startsWith(":")) fail(SCAN_USAGE);
  const tokens = opts.slice(1).split(":");
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i] ?? "";
    if (i === 0 && eq(t, "cl")) {
      cmd.commitLog = true;
    } else if (eq(t, "showhidden") && cmd.showHidden === undefined) {
      cmd.showHidden = parseBool(tokens[++i] ?? "") ?? fail(SCAN_USAGE);
    } else if (eq(t, "page") && cmd.page === undefined) {
      cmd.page = parseInteger(tokens[++i] ?? "", false) ?? fail(SCAN_USAGE);
    } else if (t.startsWith("@") && isEntity(t.slice(1)) && cmd.forAtSign === undefined) {
      cmd.forAtSign = t;
    } else fail(SCAN_USAGE);
  }
  return cmd;
}

/**
 * Builds a scan line.
 * @example buildScan({ verb: "scan", showHidden: true }) // "scan:showhidden:true"
 */
export function buildScan(cmd: CommandOf<"scan">): string {
  let out = cmd.commitLog ? "scan:cl" : "scan";
  if (cmd.showHidden !== undefined) out += `:showhidden:${cmd.showHidden}`;
  if (cmd.forAtSign) out += `:${cmd.forAtSign}`;
  if (cmd.page !== undefined) out += `:page:${cmd.page}`;
  return cmd.regex === undefined ? out : `${out} ${cmd.regex}`;
}
