/**
 * `from:@other` by another atServer and `pol` (ATPROTOCOL.md §4.3, §5.2, §5.3, callee side). `from:` of the
 * server's own @sign stays with the owner-auth handler (verbs/auth.ts).
 */
import { randomUUID } from "node:crypto";
import { normalizeAtSign } from "../../core/atsign.ts";
import { AtProtocolError, CHALLENGE_TTL_MS, polResponse } from "../../core/wire/index.ts";
import type { Connection } from "../connection.ts";
import { checkPeerCertificate, verifyPolProof } from "../s2s/peer_verification.ts";
import { authHandlers } from "./auth.ts";
import { isBlocked } from "./config.ts";
import { data, type HandlerTable } from "./handler.ts";

/** A proof issued by `from:@other`, waiting for `pol`. */
interface PendingProof {
  atSign: string;
  /** `_<session>@other`: where the caller publishes its signature. */
  sessionKey: string;
  proof: string;
  issuedAt: number;
}

// Per connection; entries go with their connection.
const pending = new WeakMap<Connection, PendingProof>();

const ownFrom = authHandlers.from!;

/** Handlers of the server-to-server half of the auth family (override `from`, own `pol`). */
export const polHandlers: HandlerTable = {
  async from(ctx, conn, cmd) {
    let atSign: string;
    try {
      atSign = normalizeAtSign(cmd.atSign);
    } catch (err) {
      throw new AtProtocolError("AT0003", `Invalid syntax. ${(err as Error).message}`);
    }
    if (atSign === ctx.atSign) return await ownFrom(ctx, conn, cmd);
    conn.clientVersion = cmd.clientVersion;
    pending.delete(conn);
    if (isBlocked(ctx, atSign)) throw new AtProtocolError("AT0013", `${atSign} is blocked`, { closes: true });
    await checkPeerCertificate(ctx, conn, atSign);
    const p: PendingProof = { atSign, sessionKey: `${conn.sessionId}${atSign}`, proof: randomUUID(), issuedAt: Date.now() };
    pending.set(conn, p);
    return data(`proof:${p.sessionKey}:${p.proof}`);
  },
  async pol(ctx, conn) {
    const p = pending.get(conn);
    // The reference answers a pol without a pending server-to-server from: this way (and closes).
    if (!p) throw new AtProtocolError("AT0011", "pol verb requires a from: of another @sign first", { closes: true });
    pending.delete(conn);
    if (Date.now() - p.issuedAt > CHALLENGE_TTL_MS) throw new AtProtocolError("AT0401", "pol failed: the proof expired; send from: again");
    if (!(await verifyPolProof(ctx, p.atSign, p.sessionKey, p.proof))) {
      throw new AtProtocolError("AT0401", `pol failed: ${p.atSign} did not sign the proof`);
    }
    conn.state = { auth: "pol", atSign: p.atSign };
    return { kind: "raw", text: polResponse(p.atSign) };
  },
};
