/**
 * `to:@<atSign>` (at_server 3.15): a peer names the @sign it means and gets its two public keys in one round
 * trip. One process serves one @sign today, so the named @sign must be it; a hosting mode (many @signs on one
 * port) resolves the connection's @sign here instead.
 */
import { normalizeAtSign } from "../../core/atsign.ts";
import { AtProtocolError } from "../../core/wire/index.ts";
import type { ServerContext } from "../context.ts";
import { data, type HandlerTable } from "./handler.ts";

/** The @sign `to:` names when this server serves it, else AT0007 (the reference's "not hosted on this atServer"). */
function servedAtSign(ctx: ServerContext, named: string): string {
  let atSign: string | null;
  try {
    atSign = normalizeAtSign(named);
  } catch {
    atSign = null;
  }
  if (atSign !== ctx.atSign) throw new AtProtocolError("AT0007", `${named} is not hosted on this atServer`);
  return atSign;
}

/** Handlers of `to`. */
export const toHandlers: HandlerTable = {
  to(ctx, _conn, cmd) {
    const atSign = servedAtSign(ctx, cmd.atSign);
    // The encryption key is absent until the @sign is onboarded; the answer says so with null.
    const publickey = ctx.keystore.get(`public:publickey${atSign}`)?.value ?? null;
    const signingPublickey = ctx.keystore.get(`public:signing_publickey${atSign}`)?.value ?? null;
    return data(JSON.stringify({ publickey, signing_publickey: signingPublickey }));
  },
};
