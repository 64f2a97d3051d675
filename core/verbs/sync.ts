/**
 * `sync:from` (ATPROTOCOL.md §5.12, §7.2). The legacy `sync:<n>` has no handler in the reference (AT0003).
 */
import type { CommandOf } from "./command.ts";
import { fail, parseInteger } from "./_syntax.ts";

const SYNC_USAGE = "sync:from:<commitId|-1>:limit:<n>[:<regex>]";

/**
 * Parses `sync:from:<id|-1>:limit:<n>[:<regex>]`; `:limit:` is mandatory (its value is advisory).
 * @example parseSyncFrom("sync:from:-1:limit:25:.*wavi") // { verb: "syncFrom", fromCommitId: -1, limit: 25, regex: ".*wavi" }
 */
export function parseSyncFrom(line: string): CommandOf<"syncFrom"> {
  const m = /^sync:from:(\d+|-1):limit:(\d+)(?::(.+))?$/i.exec(line);
  if (!m) fail(SYNC_USAGE);
  const fromCommitId = parseInteger(m[1] ?? "", true) ?? fail(SYNC_USAGE);
  const limit = parseInteger(m[2] ?? "", false) ?? fail(SYNC_USAGE);
  const cmd: CommandOf<"syncFrom"> = { verb: "syncFrom", fromCommitId, limit };
  if (m[3] !== undefined) cmd.regex = m[3];
  return cmd;
}

/**
 * Builds a sync:from line.
 * @example buildSyncFrom({ verb: "syncFrom", fromCommitId: 12, limit: 25 }) // "sync:from:12:limit:25"
 */
export function buildSyncFrom(cmd: CommandOf<"syncFrom">): string {
  return `sync:from:${cmd.fromCommitId}:limit:${cmd.limit}${cmd.regex === undefined ? "" : `:${cmd.regex}`}`;
}
