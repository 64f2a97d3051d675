/**
 * The server-to-server half of auth (ATPROTOCOL.md §4.3, callee side): `from:@other` issues a proof once the
 * caller's client certificate names the host the directory publishes for it, and `pol` verifies the caller's
 * signature of that proof over a reverse connection. The certificate only says which host the caller runs on
 * (shared by every @sign there); the signature is what proves the @sign, and its challenge names us
 * (s2s/pol_proof.ts). `from:` itself is routed in verbs/auth.ts.
 */
import { AtProtocolError, CHALLENGE_TTL_MS, polResponse } from "../../core/wire/index.ts";
import type { Connection } from "../connection.ts";
import type { ServerContext } from "../context.ts";
import { checkPeerCertificate, verifyPolProof } from "../s2s/peer_verification.ts";
import { issueChallenge } from "../s2s/pol_proof.ts";
import { assertAllowed } from "./config.ts";
import { data, type HandlerTable, type Reply } from "./handler.ts";

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

/** `from:@other` (canonical @sign, not ours): checks the certificate and answers `data:proof:<session>:<proof>`. */
export async function issueProof(ctx: ServerContext, conn: Connection, atSign: string): Promise<Reply> {
  pending.delete(conn);
  await checkPeerCertificate(ctx, conn, atSign);
  const p: PendingProof = { atSign, sessionKey: `${conn.sessionId}${atSign}`, proof: issueChallenge(ctx.atSign), issuedAt: Date.now() };
  pending.set(conn, p);
  return data(`proof:${p.sessionKey}:${p.proof}`);
}

/** Handlers of the server-to-server half of the auth family. */
export const polHandlers: HandlerTable = {
  async pol(ctx, conn) {
    const p = pending.get(conn);
    // The reference answers a pol without a pending server-to-server from: this way (and closes).
    if (!p) throw new AtProtocolError("AT0011", "pol verb requires a from: of another @sign first", { closes: true });
    pending.delete(conn);
    if (Date.now() - p.issuedAt > CHALLENGE_TTL_MS) throw new AtProtocolError("AT0401", "pol failed: the proof expired; send from: again");
    assertAllowed(ctx, p.atSign); // the lists may have changed since from:
    const refused = await verifyPolProof(ctx, p.atSign, p.sessionKey, p.proof);
    if (refused) throw new AtProtocolError("AT0401", `pol failed: ${refused}`);
    conn.state = { auth: "pol", atSign: p.atSign };
    return { kind: "raw", text: polResponse(p.atSign) };
  },
};
