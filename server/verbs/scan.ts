/**
 * `scan` (ATPROTOCOL.md §5.8): the owner sees its active keys minus server-internal and (unless showhidden)
 * hidden ones; an unauthenticated client sees public keys without their `public:` prefix; another server,
 * pol-authenticated as @bob, sees the keys shared with @bob (prefix removed). `scan:@bob` (owner) relays the
 * scan to @bob's server over our pol session there.
 */
import { normalizeAtSign } from "../../core/atsign.ts";
import { AtProtocolError, isAtErrorCode } from "../../core/wire/index.ts";
import { scanName } from "../../core/keys/index.ts";
import { scanMayList } from "../enroll/grants.ts";
import { clientRegex } from "../key_policy.ts";
import type { ServerContext } from "../context.ts";
import { data, type HandlerTable, type Reply } from "./handler.ts";
import { scanCommitLog } from "./scan_commit_log.ts";

/** Longest regex an unauthenticated scan may send (a cheap bound on regex cost for strangers). */
export const PUBLIC_SCAN_REGEX_MAX_CHARS = 256;

/** Runs `scan [regex]` on `forAtSign`'s server through our pol session and returns its list as is. */
async function remoteScan(ctx: ServerContext, forAtSign: string, regex: string | undefined): Promise<Reply> {
  const pool = ctx.notify?.pool;
  if (!pool) throw new AtProtocolError("AT0021", `Unable to connect to secondary: this server has no server-to-server sessions`);
  let atSign: string;
  try {
    atSign = normalizeAtSign(forAtSign);
  } catch (err) {
    throw new AtProtocolError("AT0003", `Invalid syntax. ${(err as Error).message}`);
  }
  const r = await pool.request(atSign, regex === undefined ? "scan" : `scan ${regex}`);
  if (r.kind === "error") throw new AtProtocolError(isAtErrorCode(r.code) ? r.code : "AT0021", r.description);
  return data(r.payload);
}

/** Handlers of the scan family. */
export const scanHandlers: HandlerTable = {
  scan(ctx, conn, cmd) {
    if (cmd.commitLog) return scanCommitLog(ctx, conn, cmd);
    if (cmd.forAtSign !== undefined) {
      if (conn.state.auth !== "owner") throw new AtProtocolError("AT0401", "Command cannot be executed without auth");
      return remoteScan(ctx, cmd.forAtSign, cmd.regex);
    }
    if (conn.state.auth === "none" && cmd.regex !== undefined && cmd.regex.length > PUBLIC_SCAN_REGEX_MAX_CHARS) {
      throw new AtProtocolError("AT0022", `A scan regex may have at most ${PUBLIC_SCAN_REGEX_MAX_CHARS} characters`);
    }
    const re = cmd.regex === undefined ? null : clientRegex(cmd.regex);
    const now = Date.now();
    const out: string[] = [];
    for (const key of ctx.keystore.activeKeys(now)) {
      if ((re && !re.test(key)) || !scanMayList(conn, key)) continue;
      const name = scanName(conn.state, key, cmd.showHidden === true);
      if (name !== null) out.push(name);
    }
    return data(JSON.stringify(out));
  },
};
