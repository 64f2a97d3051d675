/**
 * `from`, `cram`, `pkam`, `pol` (ATPROTOCOL.md §4, §5.2, §5.3).
 */
import { normalizeAtSign } from "../../core/atsign.ts";
import { AtProtocolError } from "../../core/wire/index.ts";
import { authenticateCram, authenticatePkam, issueChallenge } from "../auth.ts";
import { isBlocked } from "./config.ts";
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
    if (isBlocked(ctx, atSign)) throw new AtProtocolError("AT0013", `${atSign} is blocked`, { closes: true });
    if (atSign !== ctx.atSign) {
      // Server-to-server sessions (proof + pol) arrive with their own issue; until then they cannot be verified.
      throw new AtProtocolError("AT0401", "Certificate Verification Failed: server-to-server authentication is not available on this server yet");
    }
    return data(issueChallenge(conn, ctx.atSign));
  },
  cram(ctx, conn, cmd) {
    authenticateCram(ctx, conn, cmd.digest);
    return data("success");
  },
  async pkam(ctx, conn, cmd) {
    await authenticatePkam(ctx, conn, cmd);
    return data("success");
  },
  pol() {
    // The reference answers a pol without a pending server-to-server from: this way (and closes).
    throw new AtProtocolError("AT0011", "pol verb requires a from: of another @sign first", { closes: true });
  },
};
