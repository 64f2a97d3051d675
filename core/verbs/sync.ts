/**
 * `sync:from` (ATPROTOCOL.md §5.12, §7.2). The legacy `sync:<n>` has no handler in the reference (AT0003).
 */
import type { CommandOf } from "./command.ts";
import { fail, parseInteger } from "./_syntax.ts";

const SYNC_USAGE = "sync:from:<commitId|-1>:limit:<n>[:skipDeletesUntil:<commitId>][:<regex>]";

/**
 * Parses `sync:from:<id|-1>:limit:<n>[:<regex>]`. The baseline reference requires `:limit:`; newer at_commons
 * makes it optional and adds `:skipDeletesUntil:<id>`, so both are accepted.
 * @example parseSyncFrom("sync:from:-1:limit:25:.*wavi") // { verb: "syncFrom", fromCommitId: -1, limit: 25, regex: ".*wavi" }
 */
export function parseSyncFrom(line: string): CommandOf<"syncFrom"> {
  const m = /^sync:from:(\d+|-1)(?::limit:(\d+))?(?::skipDeletesUntil:(\d+))?(?::(.+))?$/is.exec(line);
  if (!m) fail(SYNC_USAGE);
  const cmd: CommandOf<"syncFrom"> = { verb: "syncFrom", fromCommitId: parseInteger(m[1] ?? "", true) ?? fail(SYNC_USAGE) };
  if (m[2] !== undefined) cmd.limit = parseInteger(m[2], false) ?? fail(SYNC_USAGE);
  if (m[3] !== undefined) cmd.skipDeletesUntil = parseInteger(m[3], false) ?? fail(SYNC_USAGE);
  if (m[4] !== undefined) cmd.regex = m[4];
  return cmd;
}

/**
 * Builds a sync:from line.
 * @example buildSyncFrom({ verb: "syncFrom", fromCommitId: 12, limit: 25 }) // "sync:from:12:limit:25"
 */
export function buildSyncFrom(cmd: CommandOf<"syncFrom">): string {
  let out = `sync:from:${cmd.fromCommitId}`;
  if (cmd.limit !== undefined) out += `:limit:${cmd.limit}`;
  if (cmd.skipDeletesUntil !== undefined) out += `:skipDeletesUntil:${cmd.skipDeletesUntil}`;
  return cmd.regex === undefined ? out : `${out}:${cmd.regex}`;
}
