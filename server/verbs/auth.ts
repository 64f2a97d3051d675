/**
 * `from`, `cram`, `pkam` (ATPROTOCOL.md §4, §5.2, §5.3). `from:` of our own @sign starts CRAM/PKAM; `from:` of
 * another @sign starts the server-to-server proof (verbs/pol.ts), after the access lists allowed it.
 */
import { normalizeAtSign } from "../../core/atsign.ts";
import { AtProtocolError } from "../../core/wire/index.ts";
import { authenticateCram, authenticatePkam, issueChallenge } from "../auth.ts";
import { assertAllowed } from "./config.ts";
import { issueProof } from "./pol.ts";
import { data, type HandlerTable } from "./handler.ts";

/** Handlers of the auth family. */
export const authHandlers: HandlerTable = {
  from(ctx, conn, cmd) {
    let atSign: string;
    try {
      atSign = normalizeAtSign(cmd.atSign);
    } catch (err) {
      throw new AtProtocolError("AT0003", `Invalid syntax. ${(err as Error).message}`);
    }
    conn.clientVersion = cmd.clientVersion;
    assertAllowed(ctx, atSign);
    return atSign === ctx.atSign ? data(issueChallenge(conn, ctx.atSign)) : issueProof(ctx, conn, atSign);
  },
  async cram(ctx, conn, cmd) {
    await authenticateCram(ctx, conn, cmd.digest);
    return data("success");
  },
  async pkam(ctx, conn, cmd) {
    await authenticatePkam(ctx, conn, cmd);
    return data("success");
  },
};
