/**
 * `scan` (ATPROTOCOL.md §5.8): the owner sees its active keys minus server-internal and (unless showhidden)
 * hidden ones; an unauthenticated client sees public keys without their `public:` prefix.
 */
import { AtProtocolError } from "../../core/wire/index.ts";
import { scanName } from "../../core/keys/index.ts";
import { scanMayList } from "../enroll/grants.ts";
import { clientRegex } from "../key_policy.ts";
import { data, type HandlerTable } from "./handler.ts";

/** Longest regex an unauthenticated scan may send (a cheap bound on regex cost for strangers). */
export const PUBLIC_SCAN_REGEX_MAX_CHARS = 256;

/** Handlers of the scan family. */
export const scanHandlers: HandlerTable = {
  scan(ctx, conn, cmd) {
    if (cmd.forAtSign !== undefined) {
      if (conn.state.auth !== "owner") throw new AtProtocolError("AT0401", "Command cannot be executed without auth");
      throw new AtProtocolError("AT0021", `Unable to connect to secondary: scanning ${cmd.forAtSign} needs server-to-server sessions, not available yet`);
    }
    if (conn.state.auth === "pol") throw new AtProtocolError("AT0003", "scans from other @signs are not available on this server yet");
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
