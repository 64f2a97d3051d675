/**
 * `scan:cl` (at_server 3.16.3): the commit log's entries instead of the keys, so a client can see what it would
 * sync and `delete:nc` the entries of keys that are gone. The owner only; the filters of a keystore scan apply
 * (regex, hidden keys, the enrollment's namespaces).
 */
import type { CommandOf } from "../../core/verbs/command.ts";
import { scanName } from "../../core/keys/index.ts";
import { AtProtocolError } from "../../core/wire/index.ts";
import type { Connection } from "../connection.ts";
import type { ServerContext } from "../context.ts";
import { scanMayList } from "../enroll/grants.ts";
import { clientRegex } from "../key_policy.ts";
import { data, type Reply } from "./handler.ts";

/** Most entries one `scan:cl` answer holds; `:page:<n>` (from 0) reads the next ones. */
export const SCAN_COMMIT_LOG_PAGE_ENTRIES = 10_000;

/** The answer: `[{"atKey","operation","commitId","opTime"}]` in commit id order, opTime as ISO 8601 UTC. */
export function scanCommitLog(ctx: ServerContext, conn: Connection, cmd: CommandOf<"scan">): Reply {
  if (conn.state.auth !== "owner") throw new AtProtocolError("AT0401", "Command cannot be executed without auth");
  // The relayed scan of another server cannot carry `:cl`; answering with its keys instead would mislead.
  if (cmd.forAtSign !== undefined) throw new AtProtocolError("AT0022", "scan:cl lists this server's commit log only; it takes no @sign");
  const re = cmd.regex === undefined ? null : clientRegex(cmd.regex);
  const skip = (cmd.page ?? 0) * SCAN_COMMIT_LOG_PAGE_ENTRIES;
  const out: string[] = [];
  let matched = 0;
  for (const c of ctx.keystore.allCommits()) {
    if ((re && !re.test(c.key)) || !scanMayList(conn, c.key) || scanName(conn.state, c.key, cmd.showHidden === true) === null) continue;
    if (matched++ < skip) continue;
    out.push(JSON.stringify({ atKey: c.key, operation: c.op, commitId: c.id, opTime: new Date(c.opTime).toISOString() }));
    if (out.length >= SCAN_COMMIT_LOG_PAGE_ENTRIES) break;
  }
  return data(`[${out.join(",")}]`);
}
